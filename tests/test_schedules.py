import numpy as np

from ib_keras.networks.schedules import idnns_epochs, log_spaced_epochs, saxe_epochs


def test_log_spaced_epochs_start_at_initialisation_and_end_at_the_last_epoch():
    epochs = log_spaced_epochs(8000, 100)
    assert epochs[0] == 0 and epochs[-1] == 8000
    assert np.all(np.diff(epochs) > 0)
    np.testing.assert_array_equal(epochs[:6], [0, 1, 2, 3, 4, 5])


def test_log_spaced_epochs_are_evenly_spaced_in_log_once_distinct():
    epochs = log_spaced_epochs(8000, 100)
    late = epochs[epochs > 100]
    ratios = late[1:] / late[:-1]
    assert np.allclose(ratios, 8000 ** (1 / 99), rtol=0.05)


def test_saxe_schedule_is_their_do_report_rule_in_keras_epoch_indices():
    epochs = saxe_epochs(10000)
    # 0..19, then every 5th to 95, every 20th to 1980, every 100th to 9900: 211 indices
    expected = np.concatenate([np.arange(20), np.arange(20, 100, 5), np.arange(100, 2000, 20), np.arange(2000, 10000, 100)])
    np.testing.assert_array_equal(epochs, expected)
    assert len(epochs) == 211


def test_idnns_schedule_is_274_epoch_starts_up_to_7999():
    epochs = idnns_epochs(8000)
    assert len(epochs) == 274 and epochs[-1] == 7999
    np.testing.assert_array_equal(epochs[:10], np.arange(10))  # every epoch early on
    np.testing.assert_array_equal(epochs[-3:], [7646, 7820, 7999])
    # 400 points log-spaced in base 2: consecutive late indices + 1 grow by 8000^(1/399) at most once rounded
    late = epochs[epochs > 1000] + 1
    assert np.all(late[1:] / late[:-1] < 8000 ** (1 / 399) * 1.01)
