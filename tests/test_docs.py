"""The documentation cannot drift from the code: the MkDocs site (with its API reference from the
docstrings) builds with warnings as errors, and every Python example in the README and docs/ runs."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# Pages in the order their examples run, in one directory: the README's writes the run file that
# docs/run-file.md reads.
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SKIP = "<!-- not run:"  # a line right above an example that cannot run here, saying why


def examples(page: Path) -> list[str]:
    """The ```python blocks of ``page``, but those preceded by a SKIP line."""
    text = page.read_text()
    return [match.group(2) for match in re.finditer(r"^([^\n]*\n)?```python\n(.*?)```", text, re.M | re.S)
            if not (match.group(1) or "").startswith(SKIP)]


def test_the_site_builds_with_warnings_as_errors(tmp_path):
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "site" / "api" / "index.html").read_text().count("estimate_mi") > 1


def test_every_example_in_the_readme_and_docs_runs(tmp_path):
    (tmp_path / "results").symlink_to(ROOT / "results")  # the shipped bundles, as from the repository's root
    blocks = [(page.relative_to(ROOT), block) for page in PAGES for block in examples(page)]
    assert len(blocks) >= 6
    script = "\n".join(f"print('--- {page}', flush=True)\n{block}" for page, block in blocks)
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-1000:] + result.stderr[-3000:]
    assert "TensorFlow was imported before ib_keras" not in result.stderr  # the examples import ib_keras first


def test_an_example_marked_not_run_is_left_out_and_the_others_are_found(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("text\n```python\nrun = 1\n```\n<!-- not run: it needs a cluster -->\n```python\nskip = 1\n```\n")
    assert examples(page) == ["run = 1\n"]


def test_every_ib_keras_name_the_readme_docs_and_notebooks_give_exists():
    """Each dotted ``ib_keras.…`` name is a module of the package, or a name defined at the top of
    one (read from the source: no import, no TensorFlow)."""
    from tests.test_layout import MODULES, _lazy_homes, _top_level_names

    texts = [page.read_text() for page in PAGES] + [path.read_text() for path in (ROOT / "examples").glob("*.ipynb")]
    names = {name.rstrip(".") for text in texts for name in re.findall(r"\bib_keras(?:\.\w+)+", text)}
    assert len(names) > 20
    missing = []
    for name in sorted(names):
        module, _, attribute = name.rpartition(".")
        defined = module in MODULES and (attribute.startswith("__") or attribute in _top_level_names(module)
                                         or attribute in _lazy_homes(module))
        if name not in MODULES and not defined:
            missing.append(name)
    assert not missing, f"names that do not exist: {missing}"


def test_the_estimators_page_says_how_renyi_widths_and_exact_differ_from_the_original_codes():
    """Issue 40, items 17-19: the kernel's form and the line it is read from, the sqrt 2 between
    exp(-d^2 / 2 sigma^2) and exp(-d^2 / sigma^2) widths, and exact's two differences from
    Lorenzen et al.'s code, said where a user reads the estimators."""
    from ib_keras.estimate.estimators import _renyi

    assert "0bf8703 (lines 63-70)" in _renyi.__doc__ and "At 09a2a51 the same width goes into exp(-d^2 / sigma^2)" \
        in _renyi.__doc__
    page = " ".join((ROOT / "docs" / "estimators.md").read_text().split())
    assert "is divided by sqrt 2 to give it here (his sigma_X = 8 is `input_sigma=5.66`)" in page
    assert "bin the softmax probabilities again, at 2^bits + 1 levels" in page
    assert "by the range it read at the last training step; here by the current kernel's own range" in page


def test_the_api_page_documents_every_exported_name_and_no_other():
    """docs/api.md is what scripts/api_page.py writes from the packages' ``__all__``: every name
    `ib_keras` and each stage export, once where it is defined, no private helper; it fails when a
    name is exported and the page was not written again."""
    from tests.test_layout import MODULES, _lazy_homes

    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "api_page.py"), "--check"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    page = (ROOT / "docs" / "api.md").read_text()
    targets = re.findall(r"^::: (\S+)$", page, re.M)
    exported = {name for package in MODULES if _lazy_homes(package) for name in _lazy_homes(package)}
    assert {target.rpartition(".")[2] for target in targets} == exported
    assert len(targets) == len(set(targets)) and not any(t.rpartition(".")[2].startswith("_") for t in targets)
    for name in ("plot_plane", "ActivationRecorder", "InformationPlaneLogger", "Run", "Estimate"):
        assert f"`{name}`" in page


def test_the_which_estimator_page_is_generated_from_the_shipped_benchmark():
    """docs/estimators.md's measured section is what scripts/estimator_page.py writes from
    results/estimators (tables generated, not typed)."""
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "estimator_page.py"), "--check"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "Against the exact information of quantized networks" in (ROOT / "docs" / "estimators.md").read_text()
