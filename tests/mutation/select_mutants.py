"""Helpers for ``tests/mutation/run.sh`` (run with cosmic-ray's Python, not by pytest).

``select SESSION MODULE [FUNCTION ...]``: marks as skipped every pending mutant whose operator
is not in ``KEEP`` (cosmic-ray makes ten replacements per arithmetic operator; one, the
natural opposite, is enough to show whether a test looks at that operation) or, when functions
are named, that lies outside them. ``report SESSION...``: counts and the surviving mutants with
their source line."""

from __future__ import annotations

import ast
import os
import re
import sys
import zlib
from pathlib import Path

from cosmic_ray.work_db import WorkDB, use_db
from cosmic_ray.work_item import TestOutcome, WorkerOutcome, WorkResult

KEEP = re.compile(
    r"core/("
    r"ReplaceBinaryOperator_(Add_Sub|Sub_Add|Mul_Div|Div_Mul|FloorDiv_Div|Mod_FloorDiv"
    r"|Pow_Mul|BitAnd_BitOr|BitOr_BitAnd)"
    r"|ReplaceComparisonOperator_(Lt_LtE|LtE_Lt|Gt_GtE|GtE_Gt|Eq_NotEq|NotEq_Eq|Is_IsNot"
    r"|IsNot_Is)"
    r"|ReplaceUnaryOperator_(USub_UAdd|Delete_Not)"
    r"|NumberReplacer|ReplaceTrueWithFalse|ReplaceFalseWithTrue|ReplaceAndWithOr"
    r"|ReplaceOrWithAnd|AddNot|ReplaceBreakWithContinue|ReplaceContinueWithBreak"
    r"|ExceptionReplacer|ZeroIterationForLoop"
    r")$"
)


def _function_lines(module: Path, names: list[str]) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and node.name in names:
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    if not lines:
        raise SystemExit(f"none of {names} found in {module}")
    return lines


def _docstring_lines(module: Path) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(ast.parse(module.read_text())):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return lines


def mutant_id(module: str, line: int, operator: str, occurrence: int) -> str:
    return f"{module}:{line}:{operator.removeprefix('core/')}#{occurrence}"


def select(session: str, module: str, functions: list[str]) -> None:
    """``MUTATION_SAMPLE=N`` keeps a fixed 1-in-N sample (by a hash of the mutant, so every run
    picks the same ones); ``MUTATION_ONLY=FILE`` keeps only the mutants listed in FILE (the
    survivors of an earlier run, one ``mutant_id`` a line)."""
    path = Path(module)
    source = path.read_text().splitlines()
    wanted = _function_lines(path, functions) if functions else None
    docstrings = _docstring_lines(path)
    sample = int(os.environ.get("MUTATION_SAMPLE", "1"))
    only_file = os.environ.get("MUTATION_ONLY")
    only = set(Path(only_file).read_text().split()) if only_file else None
    kept = 0
    with use_db(session, WorkDB.Mode.open) as db:
        for item in db.pending_work_items:
            mutation = item.mutations[0]
            line = mutation.start_pos[0]
            op, occurrence = mutation.operator_name, mutation.occurrence
            ident = mutant_id(module, line, op, occurrence)
            why = None
            if not KEEP.match(op):
                why = "operator not selected"
            elif wanted is not None and line not in wanted:
                why = "outside the functions under test"
            elif line in docstrings:
                why = "in a docstring"
            elif source[line - 1].lstrip().startswith("@"):
                why = "a decorator's options (njit cache/nogil: same results)"
            elif op.endswith("NumberReplacer") and occurrence % 2:
                why = "one of the two offsets per number"
            elif zlib.crc32(ident.encode()) % sample:
                why = f"not in the 1-in-{sample} sample"
            elif only is not None and ident not in only:
                why = "not a survivor of the earlier run"
            if why:
                db.set_result(item.job_id, WorkResult(WorkerOutcome.SKIPPED, output=why))
            else:
                kept += 1
    print(f"{module}: {kept} mutants to run")


def report(sessions: list[str]) -> int:
    survivors = 0
    for session in sessions:
        counts: dict[str, int] = {}
        with use_db(session, WorkDB.Mode.open) as db:
            items = {item.job_id: item for item in db.work_items}
            for job_id, result in db.results:
                if result.worker_outcome is WorkerOutcome.SKIPPED:
                    continue
                outcome = str(result.test_outcome or result.worker_outcome)
                counts[outcome] = counts.get(outcome, 0) + 1
                if result.test_outcome is TestOutcome.SURVIVED:
                    survivors += 1
                    m = items[job_id].mutations[0]
                    line = m.start_pos[0]
                    text = Path(m.module_path).read_text().splitlines()[line - 1].strip()
                    ident = mutant_id(str(m.module_path), line, m.operator_name, m.occurrence)
                    print(f"SURVIVED {ident}  {text}")
            pending = len(db.pending_work_items)
        print(f"{session}: {counts} pending {pending}")
    print(f"survivors: {survivors}")
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "select":
        select(sys.argv[2], sys.argv[3], sys.argv[4:])
    else:
        sys.exit(report(sys.argv[2:]))
