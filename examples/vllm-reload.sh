#!/bin/sh
# engine.reload for vLLM servers irpo did not start (engine.endpoints): restarts the vLLM server
# behind ENDPOINT on MODEL_DIR, then returns. irpo then waits (engine.startupTimeoutS) until
# GET ENDPOINT/models lists MODEL_DIR (vLLM lists the folder it loaded as `root`), so this script
# need not wait for the weights to load.
#
#   engine:
#     kind: http
#     endpoints: [http://127.0.0.1:8000/v1]
#     reload: ./examples/vllm-reload.sh {endpoint} {model}
#
# Start the first server with this script too (./examples/vllm-reload.sh http://127.0.0.1:8000/v1 ./M0),
# so that it knows the server's pid. Set VLLM_ARGS for more flags (tensor parallelism, memory).
# What keeps M0 and every M(t) served alike:
# --dtype auto               reads torch_dtype from config.json: irpo saves M(t) in M0's dtype
#                            (training.saveDtype: auto), so every M(t) runs at M0's precision;
# --served-model-name m      the same model name for every iteration;
# --generation-config auto   sampling defaults from the folder's generation_config.json, which
#                            irpo copies from M0 into every M(t) (it sends temperature, top_p,
#                            max_tokens and seed itself; the file decides the rest).
set -eu
endpoint=$1
model=$2
port=$(printf '%s\n' "$endpoint" | sed -E 's#^[a-z]+://[^:/]+:([0-9]+).*#\1#')
case $port in *[!0-9]* | '') echo "vllm-reload: no port in $endpoint" >&2; exit 2 ;; esac
state=${IRPO_VLLM_STATE:-${TMPDIR:-/tmp}/irpo-vllm}
mkdir -p "$state"
pidfile=$state/$port.pid
if [ -f "$pidfile" ]; then
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    echo "stopping vLLM (pid $pid) on port $port"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid"
    for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
  fi
fi
echo "starting vLLM on port $port with $model (log $state/$port.log)"
# setsid: its own process group, which outlives this script and is stopped as one next time
setsid vllm serve "$model" --port "$port" --dtype auto --served-model-name m --generation-config auto \
  ${VLLM_ARGS:-} >>"$state/$port.log" 2>&1 </dev/null &
echo $! >"$pidfile"
