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
#   perl shim.pl MODE PRCTL_NR CLOCK_NR RUNC ROOT ID DIR TARGET MAX_BYTES \
#                [STDIN TERMINAL RECVMSG_NR TIOCSWINSZ]
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
#
# Interactive processes. STDIN 1 keeps the process's stdin open: its input is
# what is written to the FIFO DIR/stdin (the shim holds both ends, so writers
# may come and go, across restarts of the runtime too), passed on as it comes.
# TERMINAL 1 gives the process a pseudo-terminal: runc is given
# --console-socket, and the pty master it sends (SCM_RIGHTS, received with the
# recvmsg syscall RECVMSG_NR) is the process's input and output, kept as
# stdout. With either, the FIFO DIR/control takes lines:
#   resize ROWS COLS   sets the terminal's size (ioctl TIOCSWINSZ); the kernel
#                      sends SIGWINCH to the terminal's foreground group
#   close-stdin        closes the process's stdin once the input so far is
#                      written (the process reads end of file); ignored with a
#                      terminal, where Ctrl-D is a byte like any other
# Only modules of perl-base are used.
use strict;
use warnings;
use Fcntl qw(F_GETFL F_SETFL O_NONBLOCK O_RDWR);
use POSIX qw(mkfifo);
use Socket qw(AF_UNIX SOCK_STREAM pack_sockaddr_un);

my ($mode, $sys_prctl, $sys_clock, $runc, $root, $id, $dir, $target, $max, $open_stdin, $terminal, $sys_recvmsg, $tiocswinsz) = @ARGV;
die "usage: shim.pl MODE PRCTL_NR CLOCK_NR RUNC ROOT ID DIR TARGET MAX_BYTES [STDIN TERMINAL RECVMSG_NR TIOCSWINSZ]\n" unless defined $max;
$open_stdin = ($open_stdin // 0) eq '1';
$terminal = ($terminal // 0) eq '1';
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

sub nonblocking { my ($f) = @_; my $fl = fcntl($f, F_GETFL, 0); fcntl($f, F_SETFL, $fl | O_NONBLOCK); }

# The FIFOs the runtime writes input and control lines to. The shim opens
# them read-write, so it never reads end of file when a writer goes.
my ($stdin_fifo, $control_fifo);
sub open_fifo {
  my ($name) = @_;
  my $path = "$dir/$name";
  unlink($path);
  mkfifo($path, 0600) or do { put('created', "fail -1\nmkfifo $path: $!\n"); exit 1 };
  sysopen(my $f, $path, O_RDWR | O_NONBLOCK) or do { put('created', "fail -1\nopen $path: $!\n"); exit 1 };
  return $f;
}
$stdin_fifo = open_fifo('stdin') if $open_stdin;
$control_fifo = open_fifo('control') if $open_stdin || $terminal;

# Without a terminal, an open stdin is a pipe whose write end the shim keeps.
my ($in_r, $in_w);
if ($open_stdin && !$terminal) {
  pipe($in_r, $in_w) or do { put('created', "fail -1\npipe: $!\n"); exit 1 };
}

# With a terminal, runc sends the pty master to a socket in a private
# directory (a short path: a socket's path has at most 107 bytes).
my ($console_dir, $console_path, $console_listener);
if ($terminal) {
  $console_dir = "/tmp/moby-console.$$";
  system('rm', '-rf', '--', $console_dir) if -e $console_dir;
  mkdir($console_dir, 0700) or do { put('created', "fail -1\nmkdir $console_dir: $!\n"); exit 1 };
  $console_path = "$console_dir/console.sock";
  socket($console_listener, AF_UNIX, SOCK_STREAM, 0) && bind($console_listener, pack_sockaddr_un($console_path)) && listen($console_listener, 1)
    or do { put('created', "fail -1\nconsole socket $console_path: $!\n"); exit 1 };
}
sub console_done {
  return unless defined $console_dir;
  close($console_listener) if $console_listener;
  unlink($console_path);
  rmdir($console_dir);
  undef $console_dir;
}

# Receives the one file descriptor runc sends on $conn (SCM_RIGHTS), with the
# recvmsg syscall: perl-base has no recvmsg. struct msghdr and cmsghdr are
# laid out with native words (J) and ints, as the kernel's ABI has them.
sub recv_fd {
  my ($conn) = @_;
  my $data = "\0" x 4096;
  my $ctl = "\0" x 64;
  my $iov = pack('P J', $data, length($data));
  my $msg = pack('J L x![J] P J P J i x![J]', 0, 0, $iov, 1, $ctl, length($ctl), 0);
  # A signal (SIGCHLD when runc exits) can interrupt the call before it read runc's message: call it again.
  my $n;
  do { $n = syscall($sys_recvmsg + 0, fileno($conn), $msg, 0) } while ($n < 0 && $!{EINTR});
  return (undef, "recvmsg: $!") if $n < 0;
  my ($len, $level, $type, $fd) = unpack('J i i i', $ctl);
  # SOL_SOCKET 1, SCM_RIGHTS 1.
  return (undef, "runc sent no terminal") unless $len > 0 && $level == 1 && $type == 1 && $fd > 2;
  open(my $f, '+<&=', $fd) or return (undef, "fdopen $fd: $!");
  return ($f, undef);
}

pipe(my $out_r, my $out_w) or do { put('created', "fail -1\npipe: $!\n"); exit 1 };
pipe(my $err_r, my $err_w) or do { put('created', "fail -1\npipe: $!\n"); exit 1 };
my @global = ($runc, '--root', $root, '--log', "$dir/runc.log", '--log-format', 'json');
my @cmd = $mode eq 'exec'
  ? (@global, 'exec', '--detach', '--pid-file', "$dir/pid", ($terminal ? ('--console-socket', $console_path) : ()), '--process', $target, $id)
  : (@global, 'create', '--bundle', $target, '--pid-file', "$dir/pid", ($terminal ? ('--console-socket', $console_path) : ()), $id);
my $runner = fork();
if (!defined $runner) { put('created', "fail -1\nfork: $!\n"); exit 1; }
if ($runner == 0) {
  if ($in_r) { open(STDIN, '<&', $in_r); } else { open(STDIN, '<', '/dev/null'); }
  open(STDOUT, '>&', $out_w);
  open(STDERR, '>&', $err_w);
  { no warnings 'exec'; exec { $cmd[0] } @cmd; }
  print STDERR "cannot run $cmd[0]: $!\n";
  exit 127;
}
close($out_w);
close($err_w);
close($in_r) if $in_r;
# From here on only SIGKILL stops the shim (the processes it started keep
# their default dispositions).
$SIG{$_} = 'IGNORE' for qw(HUP INT TERM PIPE QUIT USR1 USR2);

# A self-pipe, so that SIGCHLD always wakes the select below.
pipe(my $sig_r, my $sig_w) or die "pipe: $!";
for my $f ($sig_r, $sig_w) { my $fl = fcntl($f, F_GETFL, 0); fcntl($f, F_SETFL, $fl | O_NONBLOCK); }
$SIG{CHLD} = sub { syswrite($sig_w, 'x') };

# What is read, by key: 1 and 2 runc's stdout and stderr, which become the
# process's (without a terminal); 3 the pty master, kept as stdout.
my %pipes = (1 => $out_r, 2 => $err_r);
my %stream_of = (1 => 1, 2 => 2, 3 => 1);

# Reads one chunk from stream $s: 1 when data came, 0 at end of file.
sub read_pipe {
  my ($s) = @_;
  my $n = sysread($pipes{$s}, my $buf, 32768);
  if (!defined $n) {
    my $errno = $! + 0;
    return 1 if $errno == 4 || $errno == 11;
    # EIO: a pty master whose last slave was closed, its end of file.
  }
  if (!$n) {
    close($pipes{$s});
    delete $pipes{$s};
    return 0;
  }
  log_write($stream_of{$s}, $buf, now_us());
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

# With a terminal, the pty master comes while runc runs; runc may also fail
# before it sends one.
my ($master, $console_error);
my $status;
if ($terminal) {
  while (!$master) {
    my $bits = '';
    vec($bits, fileno($console_listener), 1) = 1;
    my $n = select(my $ready = $bits, undef, undef, 0.05);
    if ($n > 0) {
      if (accept(my $conn, $console_listener)) {
        ($master, $console_error) = recv_fd($conn);
        close($conn);
        last unless $master;
      }
      next;
    }
    if (waitpid($runner, 1) == $runner) {
      $status = $?;
      # runc has exited; a connection it made is still queued.
      next if select(my $late = $bits, undef, undef, 0) > 0;
      last;
    }
  }
  console_done();
}
if (!defined $status) {
  waitpid($runner, 0);
  $status = $?;
}
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
if ($terminal && !$master) {
  kill('KILL', $pid);
  put('created', "fail -1\nrunc sent no terminal: " . ($console_error // 'no connection') . "\n");
  exit 0;
}
# Nothing has reaped the process yet (only this shim, its subreaper, will),
# so the pid is still its own, a zombie at worst: its start time names it.
my $start = '';
if (open(my $sf, '<', "/proc/$pid/stat")) {
  my $stat = <$sf> // '';
  close($sf);
  if ($stat =~ /^.*\)\s(.*)$/s) { my @f = split(/ /, $1); $start = $f[19] // ''; }
}
put('created', $start =~ /^\d+$/ ? "ok $pid $start\n" : "ok $pid\n");

# Input: what the stdin FIFO holds goes to the process (its stdin pipe, or
# the pty master), at most 64 KiB held at a time.
my $input_to = $terminal ? $master : $in_w;
my $pending = '';
my $close_stdin = 0;
if ($master) {
  nonblocking($master);
  $pipes{3} = $master;
}
nonblocking($in_w) if $in_w;

sub input_done {
  close($stdin_fifo) if $stdin_fifo;
  undef $stdin_fifo;
  close($in_w) if $in_w;
  undef $in_w;
  undef $input_to unless $master;
  $pending = '';
}

sub read_input {
  my $n = sysread($stdin_fifo, my $buf, 32768);
  $pending .= $buf if $n;
}

sub write_input {
  return unless $input_to && length($pending);
  my $n = syswrite($input_to, $pending);
  if (defined $n) { substr($pending, 0, $n) = ''; }
  elsif ($! + 0 != 11 && $! + 0 != 4) { input_done(); }   # EPIPE: the process closed its stdin
  input_done() if $close_stdin && !$terminal && !length($pending);
}

my $control_buf = '';
sub read_control {
  my $n = sysread($control_fifo, my $buf, 4096);
  return unless $n;
  $control_buf .= $buf;
  while ($control_buf =~ s/^([^\n]*)\n//) {
    my $line = $1;
    if ($line =~ /^resize (\d+) (\d+)$/) {
      ioctl($master, $tiocswinsz + 0, pack('S4', $1, $2, 0, 0)) if $master;
    } elsif ($line eq 'close-stdin' && !$terminal && $stdin_fifo) {
      # What was written before the line is in the FIFO: take it all, then
      # take no more (a new writer gets ENXIO).
      while (1) { my $n = sysread($stdin_fifo, my $buf, 65536); last unless $n; $pending .= $buf; }
      close($stdin_fifo);
      undef $stdin_fifo;
      $close_stdin = 1;
      input_done() unless length($pending);
    }
  }
  $control_buf = '' if length($control_buf) > 4096;
}

my $exited = 0;
sub reaped {
  my ($st) = @_;
  my $ts = now_us();
  drain();
  put('exit', "$st $ts\n");
  $exited = 1;
  input_done();
  close($control_fifo) if $control_fifo;
  undef $control_fifo;
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
  vec($bits, fileno($stdin_fifo), 1) = 1 if $stdin_fifo && length($pending) < 65536;
  vec($bits, fileno($control_fifo), 1) = 1 if $control_fifo;
  my $wbits = '';
  vec($wbits, fileno($input_to), 1) = 1 if $input_to && length($pending);
  my $n = select(my $ready = $bits, my $writable = $wbits, undef, 30);
  next if $n <= 0;
  sysread($sig_r, my $ignored, 512) if vec($ready, fileno($sig_r), 1);
  read_control() if $control_fifo && vec($ready, fileno($control_fifo), 1);
  read_input() if $stdin_fifo && vec($ready, fileno($stdin_fifo), 1);
  write_input() if $input_to && length($pending) && vec($writable, fileno($input_to), 1);
  for my $s (sort keys %pipes) { read_pipe($s) if vec($ready, fileno($pipes{$s}), 1); }
}
put('drained', "\n");
exit 0;
`;
