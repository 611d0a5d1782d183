# Shell functions shared by bench/h2.sh and bench/grpc.sh (sourced after bench/lib.sh, not run): servers started
# from their own templates, each under the launcher of tools.py like lib.sh's start_server, and a summary table.

# start_proc NAME CPU READY... -- CMD...: starts CMD pinned to CPU under the launcher (stdout and stderr in
# $WORK/NAME/), ready as READY says (--port P, or --log-pattern RE --log-pattern-file F); sets PID[NAME] and tracks
# it in PIDS, so cleanup stops it. Returns 1 (with the server's last stderr lines logged) if it exits before ready.
start_proc() {
    local name=$1 cpu=$2 ready=() report launcher line=
    shift 2
    while [[ $1 != -- ]]; do ready+=("$1"); shift; done
    shift
    mkdir -p "$WORK/$name"
    STARTS=$(( STARTS + 1 ))
    report=$WORK/launch.$STARTS
    : > "$report"
    "$PY" "$BENCH/tools.py" launch --out "$WORK/$name/stdout.log" --err "$WORK/$name/stderr.log" "${ready[@]}" \
        -- taskset -c "$cpu" "$@" > "$report" &
    launcher=$!
    while [[ -z $line ]]; do
        read -r line < "$report" || true
        if [[ -z $line ]] && gone "$launcher"; then
            tail -5 "$WORK/$name/stderr.log" >&2 || true
            return 1
        fi
        sleep 0.02
    done
    read -r "PID[$name]" _ <<< "$line"
    PIDS+=("${PID[$name]}")
}

# render_conf TEMPLATE OUT NAME=VALUE...: the template with each @NAME@ replaced (and @WORK@).
render_conf() {
    local in=$1 out=$2 kv args=(-e "s|@WORK@|$WORK|g")
    shift 2
    for kv in "$@"; do args+=(-e "s|@${kv%%=*}@|${kv#*=}|g"); done
    sed "${args[@]}" "$in" > "$out"
}

# median VALUES...: the median (the lower middle one of an even count); empty without values
median() {
    (( $# )) || return 0
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}

# ratio A B: A / B to two decimals, or "-" when either is missing
ratio() {
    if [[ -n $1 && -n $2 ]]; then awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; else echo -; fi
}
