/**
 * The shim: one small perl process per task process (perl-base only, about
 * 5 MB resident, most of it shared text). It makes itself a child subreaper
 * (prctl PR_SET_CHILD_SUBREAPER), runs "runc create" (init) or "runc exec
 * --detach" (exec) with the process's stdout and stderr on pipes it reads,
 * and so becomes the parent of the container process once runc exits: it
 * reaps it and writes its wait status to a file, so no exit status is lost,
 * whether or not the runtime component is running at that moment. It keeps
 * the output in bounded, rotated record files (log-files.ts). Detached in a
 * session of its own and ignoring every signal but SIGKILL, it outlives the
 * runtime component. The runtime writes this script to its state directory
 * at start.
 */
export const SHIM_SCRIPT = String.raw`# The moby container-runtime shim: one small process per task process (the
# init process of a task, or one exec process), in the manner of containerd's
# runc shim. Started detached by the runtime, it outlives it.
#
#   perl shim.pl MODE PRCTL_NR CLOCK_NR RUNC ROOT ID DIR TARGET MAX_BYTES
#
# MODE "init": "runc create --bundle TARGET ID"; MODE "exec": "runc exec
# --detach --process TARGET ID". The shim makes itself a child subreaper first,
# so the process runc starts becomes its child once runc exits, and its exit
# status is not lost. It writes, in DIR:
#   created      "ok PID START" once runc succeeded (START: field 22 of
#                /proc/PID/stat, read before the shim can reap the process, so
#                it tells the process from a later one with the same pid), or
#                "fail STATUS" and runc's error output when it failed (the
#                shim then exits)
#   stdout.log   the process's output, read from pipes, as records of a
#   stderr.log   24-byte header (seq u64le, time in us u64le, length u32le,
#                stream u8, 3 bytes 0) and the bytes read (1 to 32768); seq
#                counts the records of both streams, in the order read. When a
#                file would pass MAX_BYTES/2 it becomes NAME.1 (replacing the
#                older one) and a new file is started, so a stream keeps at
#                most about MAX_BYTES.
#   exit         "WAIT_STATUS TIME_US" once the process was reaped (its output
#                read until then included); WAIT_STATUS -1 when unknown
#   drained      once both pipes are closed and all output is written
# Each of created, exit and drained is written to a temporary file and renamed.
# Only modules of perl-base are used.
use strict;
use warnings;
use Fcntl qw(F_GETFL F_SETFL O_NONBLOCK);

my ($mode, $sys_prctl, $sys_clock, $runc, $root, $id, $dir, $target, $max) = @ARGV;
die "usage: shim.pl MODE PRCTL_NR CLOCK_NR RUNC ROOT ID DIR TARGET MAX_BYTES\n" unless defined $max;
$0 = "moby-shim $mode $id";
chdir('/');
my $half = int($max / 2);
my @names = ('', 'stdout', 'stderr');

sub now_us {
  my $buf = "\0" x 16;
  return time() * 1000000 if syscall($sys_clock + 0, 0, $buf) != 0;
  my ($s, $ns) = unpack('q<q<', $buf);
  return $s * 1000000 + int($ns / 1000);
}

sub put {
  my ($name, $text) = @_;
  my $tmp = "$dir/.$name.tmp";
  open(my $f, '>', $tmp) or return;
  print $f $text;
  close($f) or return;
  rename($tmp, "$dir/$name");
}

# PR_SET_CHILD_SUBREAPER = 36
if (syscall($sys_prctl + 0, 36, 1, 0, 0, 0) != 0) {
  put('created', "fail -1\ncannot become a child subreaper: $!\n");
  exit 1;
}

my (%fh, %size);
sub log_open {
  my ($s) = @_;
  delete $fh{$s};
  open(my $f, '>>', "$dir/$names[$s].log") or return;
  binmode($f);
  $fh{$s} = $f;
  $size{$s} = (-s $f) || 0;
}
log_open(1);
log_open(2);

my $seq = 0;
sub log_write {
  my ($s, $data, $ts) = @_;
  my $rec = pack('Q<Q<VCx3', $seq++, $ts, length($data), $s) . $data;
  if ($fh{$s} && $size{$s} > 0 && $size{$s} + length($rec) > $half) {
    close($fh{$s});
    rename("$dir/$names[$s].log", "$dir/$names[$s].log.1");
    log_open($s);
  }
  return unless $fh{$s};
  my $n = syswrite($fh{$s}, $rec);
  if (defined $n && $n == length($rec)) {
    $size{$s} += $n;
  } else {
    # Disk full or similar: drop the record, never leave half of one.
    truncate($fh{$s}, $size{$s});
  }
}

pipe(my $out_r, my $out_w) or do { put('created', "fail -1\npipe: $!\n"); exit 1 };
pipe(my $err_r, my $err_w) or do { put('created', "fail -1\npipe: $!\n"); exit 1 };
my @global = ($runc, '--root', $root, '--log', "$dir/runc.log", '--log-format', 'json');
my @cmd = $mode eq 'exec'
  ? (@global, 'exec', '--detach', '--pid-file', "$dir/pid", '--process', $target, $id)
  : (@global, 'create', '--bundle', $target, '--pid-file', "$dir/pid", $id);
my $runner = fork();
if (!defined $runner) { put('created', "fail -1\nfork: $!\n"); exit 1; }
if ($runner == 0) {
  open(STDIN, '<', '/dev/null');
  open(STDOUT, '>&', $out_w);
  open(STDERR, '>&', $err_w);
  { no warnings 'exec'; exec { $cmd[0] } @cmd; }
  print STDERR "cannot run $cmd[0]: $!\n";
  exit 127;
}
close($out_w);
close($err_w);
# From here on only SIGKILL stops the shim (the processes it started keep
# their default dispositions).
$SIG{$_} = 'IGNORE' for qw(HUP INT TERM PIPE QUIT USR1 USR2);

# A self-pipe, so that SIGCHLD always wakes the select below.
pipe(my $sig_r, my $sig_w) or die "pipe: $!";
for my $f ($sig_r, $sig_w) { my $fl = fcntl($f, F_GETFL, 0); fcntl($f, F_SETFL, $fl | O_NONBLOCK); }
$SIG{CHLD} = sub { syswrite($sig_w, 'x') };

my %pipes = (1 => $out_r, 2 => $err_r);

# Reads one chunk from stream $s: 1 when data came, 0 at end of file.
sub read_pipe {
  my ($s) = @_;
  my $n = sysread($pipes{$s}, my $buf, 32768);
  if (!defined $n) {
    my $errno = $! + 0;
    return 1 if $errno == 4 || $errno == 11;
  }
  if (!$n) {
    close($pipes{$s});
    delete $pipes{$s};
    return 0;
  }
  log_write($s, $buf, now_us());
  return 1;
}

sub pipe_bits {
  my $bits = '';
  vec($bits, fileno($pipes{$_}), 1) = 1 for keys %pipes;
  return $bits;
}

# Reads whatever the pipes hold now, without waiting for more.
sub drain {
  while (%pipes) {
    my $n = select(my $ready = pipe_bits(), undef, undef, 0);
    last if $n <= 0;
    for my $s (sort keys %pipes) { read_pipe($s) if vec($ready, fileno($pipes{$s}), 1); }
  }
}

waitpid($runner, 0);
my $status = $?;
if ($status != 0) {
  my $text = '';
  while (%pipes) {
    my $n = select(my $ready = pipe_bits(), undef, undef, 0.2);
    last if $n <= 0;
    for my $s (sort keys %pipes) {
      next unless vec($ready, fileno($pipes{$s}), 1);
      my $got = sysread($pipes{$s}, my $buf, 65536);
      if (!$got) { close($pipes{$s}); delete $pipes{$s}; next; }
      $text .= $buf if length($text) < 65536;
    }
  }
  put('created', "fail $status\n$text");
  exit 0;
}
my $pid = 0;
if (open(my $pf, '<', "$dir/pid")) { $pid = int(<$pf> // 0); close($pf); }
if ($pid <= 0) { put('created', "fail -1\nrunc wrote no pid file\n"); exit 0; }
# Nothing has reaped the process yet (only this shim, its subreaper, will),
# so the pid is still its own, a zombie at worst: its start time names it.
my $start = '';
if (open(my $sf, '<', "/proc/$pid/stat")) {
  my $stat = <$sf> // '';
  close($sf);
  if ($stat =~ /^.*\)\s(.*)$/s) { my @f = split(/ /, $1); $start = $f[19] // ''; }
}
put('created', $start =~ /^\d+$/ ? "ok $pid $start\n" : "ok $pid\n");

my $exited = 0;
sub reaped {
  my ($st) = @_;
  my $ts = now_us();
  drain();
  put('exit', "$st $ts\n");
  $exited = 1;
}

while (1) {
  while (!$exited) {
    my $r = waitpid(-1, 1);    # WNOHANG
    if ($r == $pid) { reaped($?); last; }
    next if $r > 0;            # an orphan of the task: reaped, ignored
    if ($r < 0 && kill(0, $pid) == 0) { reaped(-1); last; }   # not our child and gone
    last;
  }
  last if $exited && !%pipes;
  my $bits = %pipes ? pipe_bits() : '';
  vec($bits, fileno($sig_r), 1) = 1;
  my $n = select(my $ready = $bits, undef, undef, 30);
  next if $n <= 0;
  sysread($sig_r, my $ignored, 512) if vec($ready, fileno($sig_r), 1);
  for my $s (sort keys %pipes) { read_pipe($s) if vec($ready, fileno($pipes{$s}), 1); }
}
put('drained', "\n");
exit 0;
`;
