#!/usr/bin/env bash
# The k=100 sampling of benches/gsm8k_k100.py on a GPU machine with no internet, in one lease:
# the Qwen GGUF arrives in 44 MiB pieces (stream "q" of benches/sampling_real_gpu.sh), then one
# detached process trains the SFT model and samples k=100 for every train question; the samples
# come back as parquet pieces of at most 15 MB, four per call.
#
#   cp .gpu/q/qNN ~/p/                       # one piece per call (about 4.5 s each)
#   bash benches/gsm8k_k100_gpu.sh start SHA_Q   # in the call of the last piece; carries
#                                            # .gpu/whl/gguf-*.whl (the GGUF reader)
#   bash benches/gsm8k_k100_gpu.sh poll SECONDS  # repeated until K100 DONE
#   bash benches/gsm8k_k100_gpu.sh fetch 0 1 2 3 # the pieces to $OUT (then 4 5 6 7, ...)
#
# Rehearsal on CPU: HOME=/tmp/h BASE=tiny-llama-a K100_ARGS="--k 4 --limit 12", any file as ~/p/q00.
#
# The device tool releases a machine after 30 s without a call, and the run dies with it: keep
# calls coming until the last piece is back, and run nothing slow locally between two calls.
set -euo pipefail
W=~/w
WORK=~/k100
LOG=~/k100.log

case "${1:?usage: start SHA_Q | poll SECONDS | fetch N...}" in
start)
  mkdir -p "$W"
  bash benches/sampling_real_gpu.sh qwen "${2:?start SHA_Q}"  # joins the pieces, checks the sha256
  qwen=$W/Qwen2.5-Coder-0.5B-Instruct.Q4_K_M.gguf
  python3 -m pip install -q --no-index --no-deps --target ~/site .gpu/whl/gguf-*.whl
  rm -rf ~/repo && mkdir ~/repo && tar cf - --exclude=./.gpu . | tar xf - -C ~/repo
  cd ~/repo
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader > "$LOG" || true
  # 65,536 paths a chunk: fewer chunk ends, where the batch drains with nothing left to refill it
  PYTHONPATH=~/site:$PWD PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 setsid nohup bash -c "
    date -u +'== %T start'
    python3 -m benches.gsm8k_k100 sample --base ${BASE:-$qwen} --gsm8k data/gsm8k --work $WORK \
      --out ~/k100out --pieces --chunk-rows 65536 ${K100_ARGS:-} && date -u +'== %T K100 DONE' || echo '== FAILED'" \
    >> "$LOG" 2>&1 < /dev/null &
  echo "k100 started"
  ;;
poll)
  end=$((SECONDS + ${2:-240}))
  while [ $SECONDS -lt $end ] && ! grep -q "K100 DONE\|FAILED" "$LOG"; do sleep 5; done
  ls "$WORK" 2>/dev/null | tr '\n' ' '; echo
  echo "chunks done: $(find "$WORK"/samples.parquet.parts -name '*.parquet' 2>/dev/null | wc -l)"
  grep -v '%|' "$LOG" | cut -c1-300 | tail -25
  nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader || true
  mkdir -p "${OUT:?}/res" && cp "$LOG" "$WORK"/train_*.json "$WORK"/sample_summary.json "$OUT/res/" 2>/dev/null || true
  ;;
fetch)
  shift
  mkdir -p "${OUT:?}/pieces"
  for i in "$@"; do
    f=$(printf "%s/pieces/samples-%03d.parquet" "$WORK" "$i")
    if [ -f "$f" ]; then cp "$f" "$OUT/pieces/" && echo "piece $i: $(stat -c %s "$f") bytes"
    else echo "piece $i: none (the sampling has not finished, or there are fewer pieces)"; fi
  done
  ls "$WORK/pieces" | wc -l | sed 's/^/pieces in all: /'
  cp "$WORK"/sample_summary.json "$OUT/pieces/" 2>/dev/null || true  # 4 pieces and this: under 8 files
  ;;
*) echo "unknown command $1" >&2; exit 2 ;;
esac
