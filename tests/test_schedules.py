import numpy as np

from ib_keras.schedules import log_spaced_epochs, saxe_epochs


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


def test_saxe_schedule_follows_their_do_report_rule():
    epochs = saxe_epochs(10000)
    # 0..19, then every 5th to 95, every 20th to 1980, every 100th to 10000
    expected = np.concatenate([np.arange(20), np.arange(20, 100, 5), np.arange(100, 2000, 20), np.arange(2000, 10001, 100)])
    np.testing.assert_array_equal(epochs, expected)


def test_saxe_schedule_always_includes_the_last_epoch():
    assert saxe_epochs(2345)[-1] == 2345
