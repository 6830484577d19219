"""Tests written to kill the mutants that survived ``tests/mutation/run.sh`` (cosmic-ray over
refine, the fused kernel, temporal smoothing and the CLI's error paths); each names the
behaviour a surviving mutant broke without any test noticing. Small frames: the mutation run
executes them with NUMBA_DISABLE_JIT=1."""

from __future__ import annotations
