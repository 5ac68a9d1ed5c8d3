"""A run file described in words: what ``python -m ib_keras inspect`` prints."""

from __future__ import annotations

from ib_keras.runfile.schema import Run, layer_name


def describe_run(run: Run) -> str:
    """Whether ``run`` is complete, its config, recorded epochs, inputs, layers (as figures and
    tables name them) and final metrics, one item per line."""
    e = run.epochs
    lines = [f"{run.path}: {'complete' if run.complete else f'INCOMPLETE ({run.incomplete_reason()})'}", "config:"]
    lines += [f"  {key}: {value}" for key, value in sorted(run.config.items())]
    shown = ", ".join(map(str, e[:6])) + (f", ..., {', '.join(map(str, e[-3:]))}" if len(e) > 9 else "")
    lines.append(f"epochs: {len(e)} recorded: {shown}")
    recorded = f"x {run.x.shape}" if run.has_inputs else ("not recorded (written without them: row numbers in their "
                                                             "place, so renyi and sp refuse the file)")
    lines.append(f"inputs: {recorded}, {len(run.train_idx)} train / {len(run.test_idx)} test")
    lines.append("layers (as figures and reports name them = the file's activations/layer_<i> and the table's layer i):")
    for i, layer in enumerate(run.layers):
        shape = f", each input's {layer.shape} flattened" if layer.shape is not None else ""
        lines.append(f"  {layer_name(i, len(run.layers) - 1):>8} = layer_{i}: {layer.activation:<18} activity "
                     f"({len(e)}, {len(run.x)}, {layer.units}){shape}{f' [{layer.name}]' if layer.name else ''}")
    if len(e):
        m = {name: values[-1] for name, values in run.metrics.items()}
        lines.append(f"final (epoch {e[-1]}): train accuracy {m['train_accuracy']:.4f}, test accuracy "
                     f"{m['test_accuracy']:.4f}, train loss {m['train_loss']:.4f}, test loss {m['test_loss']:.4f}")
    return "\n".join(lines)
