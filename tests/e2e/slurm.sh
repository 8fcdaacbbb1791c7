#!/usr/bin/env bash
# `looplab sweep sbatch` on a real SLURM cluster: this test starts a single-node one of its own
# (munged, slurmctld, slurmd; its own key, config, ports and state under a temporary directory),
# runs a 3-member sweep (and single members of it) there and stops every daemon it started.
#   - `--submit` reads MaxArraySize (2 here) from the cluster, splits the sweep into two arrays
#     and submits them and the compare job: every member completes, with its own log, at
#     --threads 1, and compare/ is written;
#   - the printed submit commands work as written; a running member stopped with
#     `scancel --signal=TERM` (job steps) and one with `scancel --batch --signal=TERM` (the
#     batch shell, which hands it to the step) checkpoint and end with exit 130; after
#     `scontrol requeue` each resumes from its checkpoint (its log says so) to an eval.csv
#     byte-identical to the uninterrupted member's (and neither requeued itself);
#   - a real preemption (PreemptMode=REQUEUE, GraceTime 300) and the time-limit warning: the
#     member gets SIGTERM, checkpoints, its task requeues itself and resumes to the same eval.csv.
# Skipped (exit 77) where the daemons cannot start: not root, or slurm-wlm not installed.
#
#   slurm.sh LOOPLAB SOURCE_DIR
set -euo pipefail
looplab=$1 src=$2
skip() { echo "SKIP: $*"; exit 77; }
[[ $EUID == 0 ]] || skip "starting slurmctld, slurmd and munged needs root"
for tool in munged mungekey slurmctld slurmd sbatch srun squeue scontrol scancel; do
  command -v "$tool" >/dev/null || skip "$tool not found (apt-get install slurm-wlm)"
done

work=$(mktemp -d)
chmod 755 "$work"  # munged wants every directory above its socket searchable by all
daemons=() conf=$work/etc/slurm.conf
export SLURM_CONF=$conf

# Everything of this cluster: its jobs, then slurmd, slurmctld and munged (by pid), then any
# process left with this cluster's config in its environment (slurmstepd, a job's looplab).
stop_cluster() {
  if ((${#daemons[@]} > 1)); then
    scancel $(squeue -h -o %A 2>/dev/null) 2>/dev/null || true
    for _ in $(seq 100); do [[ -z $(squeue -h 2>/dev/null) ]] && break; sleep 0.2; done
  fi
  local i
  for ((i = ${#daemons[@]} - 1; i >= 0; i--)); do kill "${daemons[i]}" 2>/dev/null || true; done
  for ((i = ${#daemons[@]} - 1; i >= 0; i--)); do wait "${daemons[i]}" 2>/dev/null || true; done
  daemons=()
  for pid in $(cluster_processes); do kill -9 "$pid" 2>/dev/null || true; done
}
# Live processes other than this shell (and the subshell asking) with this cluster's config.
cluster_processes() {
  local pid
  for pid in $(grep -lsFxz "SLURM_CONF=$conf" /proc/[0-9]*/environ | cut -d/ -f3); do
    [[ $pid != "$$" && $pid != "$BASHPID" && -e /proc/$pid ]] && echo "$pid"
  done
  return 0
}
cleanup() {
  stop_cluster
  rm -rf "$work"
}
trap cleanup EXIT
logs() { tail -n 30 "$work"/log/*.log "$@" >&2 2>/dev/null || true; }
fail() {
  echo "FAIL: $*" >&2
  logs
  exit 1
}
# Polls `$@` every 0.5 s, at most $1 seconds.
wait_until() {
  local limit=$1
  shift
  for _ in $(seq $((limit * 2))); do "$@" && return 0; sleep 0.5; done
  return 1
}
start=$SECONDS

# 1. The cluster.
mkdir -p "$work"/{etc,munge,state,spool,log}
mungekey -c -k "$work/munge/munge.key" -b 1024
munged -F --socket="$work/munge/socket" --key-file="$work/munge/munge.key" --pid-file="$work/munge/pid" \
  --log-file="$work/log/munged.log" --seed-file="$work/munge/seed" >/dev/null 2>&1 &
daemons+=($!)
wait_until 10 test -S "$work/munge/socket" || fail "munged did not start"
host=$(hostname -s)
node=$(slurmd -C | head -1)  # NodeName=... CPUs=... RealMemory=...: what slurmd will detect
port=$((20000 + RANDOM % 20000))
cat >"$conf" <<EOF
ClusterName=looplabtest
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$work/munge/socket,cred_expire=10
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$work/state
SlurmdSpoolDir=$work/spool
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/log/slurmctld.log
SlurmdLogFile=$work/log/slurmd.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
MaxArraySize=2
PreemptType=preempt/partition_prio
PreemptMode=REQUEUE
$node State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP PriorityTier=1 PreemptMode=REQUEUE GraceTime=300
PartitionName=urgent Nodes=$host MaxTime=INFINITE State=UP PriorityTier=2 PreemptMode=OFF
EOF
touch "$work/etc/plugstack.conf"  # not the system's
slurmctld -D -c -f "$conf" >/dev/null 2>&1 &  # -D: in the foreground, so that $! is its pid
daemons+=($!)
wait_until 20 scontrol ping >/dev/null 2>&1 || fail "slurmctld did not answer"
slurmd -D -f "$conf" >/dev/null 2>&1 &
daemons+=($!)
wait_until 30 bash -c '[[ $(sinfo -h -o %T) == idle ]]' || fail "the node did not come up: $(sinfo 2>&1)"
echo "cluster up in $((SECONDS - start)) s: $node"

# 2. A 3-member sweep through `--submit`: two arrays (MaxArraySize 2), then the comparison.
cat >"$work/sweep.toml" <<EOF
extends = ["$src/tests/e2e/data/tiny.toml"]
[sweep]
seeds = [0, 1, 2]
EOF
sets=(--set training.steps=400 --set training.checkpoint_every=20 --set training.log_every=20
      --set evaluation.prompts=128 --set evaluation.bootstrap=50 --set outputs.figures=false)
job_state() { scontrol show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2 | sort -u | tr '\n' ' '; }
queue_empty() { [[ -z $(squeue -h) ]]; }
status_of() { grep -o '"status": "[a-z]*"' "$1/run.json" | cut -d'"' -f4; }

"$looplab" sweep sbatch "$work/sweep.toml" --out "$work/s1" "${sets[@]}" --max-parallel 2 --submit >"$work/s1.txt" ||
  fail "sweep sbatch --submit: $(cat "$work/s1.txt")"
cat "$work/s1.txt"
mapfile -t arrays < <(sed -n 's/^array job \([0-9]*\):.*/\1/p' "$work/s1.txt")
compare_job=$(sed -n 's/^compare job \([0-9]*\):.*/\1/p' "$work/s1.txt")
((${#arrays[@]} == 2)) || fail "3 members with MaxArraySize 2: ${#arrays[@]} arrays, not 2"
[[ -n $compare_job ]] || fail "no compare job id printed"
wait_until 150 queue_empty || fail "the sweep did not finish in 150 s: $(squeue)"
for a in "${arrays[@]}" "$compare_job"; do
  [[ $(job_state "$a") == "COMPLETED " ]] || fail "job $a ended $(job_state "$a")"
done
members=()
while IFS=, read -r index id _; do
  [[ $index == index ]] && continue
  members+=("$id")
  [[ $(status_of "$work/s1/$id") == complete ]] || fail "member $index ($id): $(cat "$work/s1/$id/run.json")"
  grep -q '"threads": 1' "$work/s1/$id/run.json" || fail "member $index did not train at --threads 1"
done <"$work/s1/sweep.csv"
((${#members[@]} == 3)) || fail "sweep.csv lists ${#members[@]} members"
for log in "${arrays[0]}_0" "${arrays[0]}_1" "${arrays[1]}_0" "compare_$compare_job"; do
  [[ -s $work/s1/logs/$log.out ]] || fail "no log $log.out: $(ls "$work/s1/logs")"
done
grep -q "sweep run 2 (" "$work/s1/logs/${arrays[1]}_0.out" || fail "the second array's task 0 did not run member 2"
[[ -s $work/s1/compare/compare.md ]] || fail "no compare/compare.md: $(cat "$work/s1/logs/compare_$compare_job.out")"
echo "sweep: 3 members complete in 2 arrays, one log each, compare/ written ($((SECONDS - start)) s)"

# 3. Stopping: the printed commands submit; members 0 and 1 are stopped while they train.
"$looplab" sweep sbatch "$work/sweep.toml" --out "$work/s2" "${sets[@]}" --max-parallel 2 --max-array-size 2 \
  >"$work/s2.txt" || fail "sweep sbatch: $(cat "$work/s2.txt")"
bash -c "$(sed -n 's/^  //p' "$work/s2.txt")" >/dev/null || fail "the printed submit commands failed: $(cat "$work/s2.txt")"
array=$(squeue -h -n looplab-tiny -o %F | sort -n | head -1)
[[ -n $array ]] || fail "nothing queued by the printed commands"
for i in 0 1; do
  wait_until 60 test -e "$work/s2/${members[i]}/checkpoints/step_0000040.pt" || fail "member $i did not start"
done
scancel --signal=TERM "${array}_0"
scancel --batch --signal=TERM "${array}_1"
done_with() { [[ $(job_state "$1") =~ ^(FAILED|COMPLETED)\ $ ]]; }
for i in 0 1; do
  wait_until 60 done_with "${array}_$i" || fail "task ${array}_$i still $(job_state "${array}_$i") 60 s after SIGTERM"
  dir=$work/s2/${members[i]}
  [[ $(status_of "$dir") == interrupted ]] || fail "member $i: $(cat "$dir/run.json") after SIGTERM (too late?)"
  scontrol show job "${array}_$i" | grep -q "ExitCode=130:0" ||
    fail "task ${array}_$i: $(scontrol show job "${array}_$i" | grep -o 'ExitCode=[0-9:]*'), not 130"
  compgen -G "$dir/checkpoints/step_*.pt" >/dev/null || fail "member $i left no checkpoint"
  ! grep -q requeueing "$work/s2/logs/${array}_$i.out" || fail "member $i requeued itself after a plain scancel"
done
echo "stop: scancel --signal=TERM and --batch --signal=TERM checkpointed, exit 130 ($((SECONDS - start)) s)"
scontrol requeue "${array}_0,${array}_1" || fail "scontrol requeue failed"
wait_until 150 queue_empty || fail "the requeued tasks did not finish in 150 s: $(squeue)"
for i in 0 1; do
  dir=$work/s2/${members[i]} log=$work/s2/logs/${array}_$i.out
  [[ $(status_of "$dir") == complete ]] || fail "member $i after requeue: $(cat "$dir/run.json")"
  grep -q "resuming from $dir/checkpoints/step_" "$log" || fail "member $i did not resume from its checkpoint: $(cat "$log")"
  grep -q "restart 1" "$log" || fail "member $i: no second attempt in its log"
  cmp "$work/s1/${members[i]}/eval.csv" "$dir/eval.csv" ||
    fail "member $i: eval.csv after the requeue differs from the uninterrupted run's"
done
echo "requeue: both resumed from their checkpoints to the uninterrupted eval.csv ($((SECONDS - start)) s)"

# 4. A real preemption: a job of the higher partition wants both CPUs while member 1 trains
#    alone; SLURM sends the member's steps SIGTERM (its partition's GraceTime, longer than the
#    180 s the time-limit check looks at: scontrol's PreemptTime tells); looplab stops at a
#    checkpoint, the task requeues itself (SLURM would only if it still ran when the grace
#    time ends) and resumes.
"$looplab" sweep sbatch "$work/sweep.toml" --out "$work/s3" "${sets[@]}" --set 'sweep.seeds=[1]' --submit \
  >"$work/s3.txt" || fail "sweep sbatch --submit: $(cat "$work/s3.txt")"
array=$(sed -n 's/^array job \([0-9]*\):.*/\1/p' "$work/s3.txt")
[[ -d $work/s3/${members[1]} ]] || fail "seed 1 alone is not member ${members[1]}: $(ls "$work/s3")"
dir=$work/s3/${members[1]} log=$work/s3/logs/${array}_0.out
wait_until 60 test -e "$dir/checkpoints/step_0000040.pt" || fail "the member did not start"
sbatch --parsable --partition=urgent --cpus-per-task=2 --output=/dev/null --wrap "sleep 1" >/dev/null
wait_until 150 queue_empty || fail "the preempted task did not finish in 150 s: $(squeue)"
grep -q "interrupted at step" "$log" || fail "the preemption did not stop looplab at a checkpoint: $(cat "$log")"
grep -q "requeueing ${array}_0" "$log" || fail "the preempted task did not requeue itself: $(cat "$log")"
grep -q "restart 1" "$log" || fail "the preempted task did not run again: $(cat "$log")"
grep -q "resuming from $dir/checkpoints/step_" "$log" || fail "the preempted member did not resume: $(cat "$log")"
[[ $(status_of "$dir") == complete ]] || fail "the preempted member: $(cat "$dir/run.json")"
cmp "$work/s1/${members[1]}/eval.csv" "$dir/eval.csv" ||
  fail "the preempted member's eval.csv differs from the uninterrupted run's"
echo "preemption: SIGTERM in the grace time, the task requeued itself and resumed to the same eval.csv ($((SECONDS - start)) s)"

# 5. The time-limit warning (--signal=TERM@120): sent here by hand to a task of --time 3 while it
#    has less than 180 s left (SLURM sends it when 120 s are left, or up to 60 s earlier); the
#    task requeues itself and resumes (the second attempt finishes long before its warning).
"$looplab" sweep sbatch "$work/sweep.toml" --out "$work/s4" "${sets[@]}" --set 'sweep.seeds=[2]' --time 3 --submit \
  >"$work/s4.txt" || fail "sweep sbatch --submit: $(cat "$work/s4.txt")"
array=$(sed -n 's/^array job \([0-9]*\):.*/\1/p' "$work/s4.txt")
dir=$work/s4/${members[2]} log=$work/s4/logs/${array}_0.out
wait_until 60 test -e "$dir/checkpoints/step_0000040.pt" || fail "the member did not start"
scancel --signal=TERM "${array}_0"
wait_until 150 queue_empty || fail "the task did not finish in 150 s: $(squeue)"
for line in "requeueing ${array}_0" "restart 1" "resuming from $dir/checkpoints/step_"; do
  grep -q "$line" "$log" || fail "the time-limit warning: no \"$line\" in the log: $(cat "$log")"
done
[[ $(status_of "$dir") == complete ]] || fail "after the time-limit warning: $(cat "$dir/run.json")"
cmp "$work/s1/${members[2]}/eval.csv" "$dir/eval.csv" || fail "after the time-limit warning: another eval.csv"
echo "time limit: the warned task requeued itself and resumed to the same eval.csv ($((SECONDS - start)) s)"

stop_cluster
left=$(cluster_processes)
[[ -z $left ]] || fail "processes left running: $left"
echo "all daemons stopped ($((SECONDS - start)) s in all)"
