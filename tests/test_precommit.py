"""The pre-commit configuration, run for real in a temporary git copy of the repository.

- ``pre-commit run --all-files`` passes on the repository as committed (what CI checks);
- a commit of a malformed data file, of a file under ``data/private/`` or of a
  respondent-level survey table is refused, and the repository is left unchanged;
- a good change still commits, and notebooks are stripped except ``keep_output`` cells.

The copy holds the committed files (HEAD, as CI sees them) and a symlink to the real ``.venv`` (the
hooks call ``.venv/bin/...``). Nothing is downloaded: every hook is ``repo: local``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from plusdig.core.paths import REPO_ROOT

VENV = Path(sys.executable).parent.parent
PRE_COMMIT = VENV / "bin" / "pre-commit"


def git(repo: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=repo, env=_env(repo), text=True,
                          capture_output=True, check=check)


def _env(repo: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "test@example.invalid",
        "GIT_COMMITTER_NAME": "test", "GIT_COMMITTER_EMAIL": "test@example.invalid",
        "PRE_COMMIT_HOME": str(repo.parent / "pre-commit-home"),
        "PATH": f"{VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}",
    })
    env.pop("PLUSDIG_DATA", None)
    return env


def export_head(dest: Path) -> None:
    """Write the committed tree (HEAD) to ``dest``: what a fresh clone, and CI, sees.

    Uncommitted edits in the working tree are left out on purpose: in a shared working tree
    they may be someone's half-done work.
    """
    dest.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "archive", "--format=tar", "HEAD"], cwd=REPO_ROOT,
                             capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh git repository holding the tracked files, with the hooks installed."""
    dest = tmp_path_factory.mktemp("precommit") / "repo"
    export_head(dest)
    (dest / ".venv").symlink_to(VENV, target_is_directory=True)
    git(dest, "init", "-q", "-b", "main")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "--no-verify", "-m", "copy")
    subprocess.run([str(PRE_COMMIT), "install"], cwd=dest, env=_env(dest), check=True,
                   capture_output=True)
    return dest


def head(repo: Path) -> str:
    return git(repo, "rev-parse", "HEAD").stdout.strip()


def commit(repo: Path, *paths: str, force: bool = False) -> subprocess.CompletedProcess[str]:
    git(repo, "add", *(["-f"] if force else []), *paths)
    return git(repo, "commit", "-m", "change", check=False)


def undo(repo: Path) -> None:
    """Drop staged and working-tree changes (only ever in the temporary copy)."""
    assert repo.resolve() != REPO_ROOT.resolve()
    git(repo, "reset", "-q", "--hard", "HEAD")
    git(repo, "clean", "-qfdx", "-e", ".venv")


def refused(repo: Path, *paths: str, force: bool = False) -> str:
    """Try to commit ``paths``; assert the hooks refused it and HEAD did not move; return the output."""
    before = head(repo)
    try:
        result = commit(repo, *paths, force=force)
        assert result.returncode != 0, result.stdout + result.stderr
        assert head(repo) == before
        return result.stdout + result.stderr
    finally:
        undo(repo)


def test_run_all_files_passes(repo: Path) -> None:
    result = subprocess.run([str(PRE_COMMIT), "run", "--all-files"], cwd=repo, env=_env(repo),
                            text=True, capture_output=True)
    assert result.returncode == 0, result.stdout + result.stderr
    hooks = ("forbid-private-data", "check-yaml", "strip-notebooks", "ruff-lib", "ruff-notebooks",
             "validate-data")
    for hook in hooks:
        assert f"- hook id: {hook}" not in result.stdout  # no hook failed or modified files
    assert result.stdout.count("Passed") == len(hooks), result.stdout


def test_malformed_data_file_is_refused(repo: Path) -> None:
    path = repo / "data" / "activities.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "- id: [\n", encoding="utf-8")
    out = refused(repo, "data/activities.yaml")
    assert "YAML kan læses" in out and "Failed" in out
    assert "data/activities.yaml: linje" in out
    assert "Datafejl: " in out and "malformed YAML" in out


def test_invalid_but_parsable_data_is_refused(repo: Path) -> None:
    path = repo / "data" / "actors.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines.append(lines[1])  # the same actor id twice
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert "duplicate id" in refused(repo, "data/actors.csv")


def test_private_file_is_refused(repo: Path) -> None:
    private = repo / "data" / "private" / "notat.txt"
    private.parent.mkdir(parents=True, exist_ok=True)
    private.write_text("Navne på elever\n", encoding="utf-8")
    out = refused(repo, "data/private/notat.txt", force=True)  # force: .gitignore has it
    assert "data/private/notat.txt: filer i data/private/ må aldrig committes" in out


def test_undefined_name_in_library_is_refused(repo: Path) -> None:
    (repo / "lib" / "plusdig" / "broken.py").write_text(
        '"""A module with a bug."""\n\n\ndef f() -> int:\n    return undefined_name\n',
        encoding="utf-8")
    assert "F821" in refused(repo, "lib/plusdig/broken.py")


def test_respondent_level_table_is_refused(repo: Path) -> None:
    (repo / "elevsvar_2018.csv").write_text(
        "respondent_id,year,school,grade,lonely\n1,2018,A,6,0\n", encoding="utf-8")
    assert "ligner data på besvarelsesniveau" in refused(repo, "elevsvar_2018.csv")


def test_good_change_commits_and_notebook_outputs_are_stripped(repo: Path) -> None:
    import nbformat

    before = head(repo)
    nb = nbformat.v4.new_notebook()
    keep = nbformat.v4.new_code_cell("print(1)", metadata={"keep_output": True})
    keep.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
    drop = nbformat.v4.new_code_cell("print(2)")
    drop.outputs = [nbformat.v4.new_output("stream", name="stdout", text="2\n")]
    nb.cells = [nbformat.v4.new_markdown_cell("# Test"), keep, drop]
    path = repo / "book" / "test.ipynb"
    nbformat.write(nb, path)
    first = commit(repo, "book/test.ipynb")
    try:
        assert first.returncode != 0  # the hook changed the file: review and add again
        assert "book/test.ipynb: output fjernet" in first.stdout + first.stderr
        stripped = nbformat.read(path, as_version=4)
        assert stripped.cells[1].outputs and stripped.cells[1].outputs[0]["text"] == "1\n"
        assert stripped.cells[1].execution_count == 1
        assert stripped.cells[2].outputs == [] and stripped.cells[2].execution_count is None
        second = commit(repo, "book/test.ipynb")
        assert second.returncode == 0, second.stdout + second.stderr
        assert head(repo) != before
    finally:
        assert repo.resolve() != REPO_ROOT.resolve()
        git(repo, "reset", "-q", "--hard", before)
        undo(repo)
