#!/usr/bin/env bash
# Mutation pass over the kernels, edge refinement, temporal smoothing and the CLI's error
# paths, with cosmic-ray (installed on the fly by uvx; not a project dependency). NOT part of
# CI: it runs the chosen tests once per mutant, tens of minutes on 2 cores.
#
#   tests/mutation/run.sh              # every target below
#   tests/mutation/run.sh temporal cli # some of them
#
# It works on a copy of the checkout (the files are mutated in place), prints the surviving
# mutants with their source line, and leaves the sessions in $MUTATION_WORK (default
# /tmp/colorme-mutation). The kernels run as plain Python (NUMBA_DISABLE_JIT=1): a mutant
# then takes seconds instead of a Numba recompilation, and Numba's cache cannot hand a test
# the unmutated kernel of another module. So the tests chosen here use small frames.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
work="${MUTATION_WORK:-/tmp/colorme-mutation}"
python="$repo/.venv/bin/python"
cosmic=(uvx --from "cosmic-ray==8.7.0")
small_kernels='not 1280 and not edges_better and not threads and not serial_and_parallel'

# name | module | tests (pytest arguments) | functions to mutate (empty: all) | sample (1 in N)
# The kernel modules are sampled 1 in 8 by default (all of them: ~420 mutants, hours on 2
# cores); MUTATION_SAMPLE=N sets the sample for every target.
targets=(
  "refine|colorme_live/core/refine.py|tests/test_refine.py tests/test_mutation_kills.py -k '$small_kernels'|coefficients ramp_constants upsample_alpha _sample_positions _band_spans _hull _union _column_reach _band_mask _row_segments _horizontal_row pixel_luma _alpha_span plan_rows _alpha_rows plan_planes _upsample_alpha_serial|8"
  "fused|colorme_live/core/fused.py|tests/test_fused.py tests/test_mutation_kills.py -k '$small_kernels'||8"
  "temporal|colorme_live/core/temporal.py|tests/test_temporal.py tests/test_mutation_kills.py -k 'not clips and not lag'||8"
  "cli|colorme_live/cli.py|tests/test_cli.py tests/test_fuzz.py tests/test_mutation_kills.py -k 'not the_entry_points and not as_a_user_sees_it and not interrupted_render and not model and not video and not part_way and not mask_of and not render_'|_Parser _intensity _color _size _positive_float _positive_int main|1"
)

want=("$@")
rm -rf "$work/repo"
mkdir -p "$work/repo"
# the checkout as it is now (tracked and new files), without .venv, caches or media
(cd "$repo" && git ls-files -co --exclude-standard -z | tar --null -T - -cf -) | tar -C "$work/repo" -xf -
cd "$work/repo"
export NUMBA_DISABLE_JIT=1 PYTHONDONTWRITEBYTECODE=1
export COLORME_SHARED="${COLORME_SHARED:-$repo/../shared}"
sessions=()
for target in "${targets[@]}"; do
  IFS='|' read -r name module tests functions sample <<<"$target"
  if [ ${#want[@]} -gt 0 ] && [[ ! " ${want[*]} " == *" $name "* ]]; then continue; fi
  config="$work/$name.toml"
  session="$work/$name.sqlite"
  cat >"$config" <<TOML
[cosmic-ray]
module-path = "$module"
timeout = 60.0
excluded-modules = []
test-command = "$python -m pytest -x -q -p no:cacheprovider -p no:randomly $tests"

[cosmic-ray.distributor]
name = "local"
TOML
  rm -f "$session"
  echo "::: $name: $module"
  "${cosmic[@]}" cosmic-ray init "$config" "$session"
  # shellcheck disable=SC2086
  MUTATION_SAMPLE="${MUTATION_SAMPLE:-$sample}" "${cosmic[@]}" python \
    "$repo/tests/mutation/select_mutants.py" select "$session" "$module" $functions
  "${cosmic[@]}" cosmic-ray baseline "$config"
  "${cosmic[@]}" cosmic-ray exec "$config" "$session"
  sessions+=("$session")
done
"${cosmic[@]}" python "$repo/tests/mutation/select_mutants.py" report "${sessions[@]}" | tee "$work/report.txt"
