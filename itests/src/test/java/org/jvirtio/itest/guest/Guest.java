package org.jvirtio.itest.guest;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.zip.GZIPOutputStream;

/**
 * One Linux guest under QEMU (TCG) booted from the {@link GuestKit}: the kit's initramfs plus a
 * per-guest overlay archive holding {@code /test.sh} (and any extra files), concatenated into one
 * initrd. The kit's /init runs {@code /test.sh}, prints {@value #EXIT_MARKER}{@code <status>} on the
 * serial console and powers the guest off.
 *
 * <pre>{@code
 * Guest.Result r = GuestKit.get().guest()
 *         .name("blk")
 *         .script("waitfor /dev/vda && dd if=/dev/vda bs=4k count=1 | md5sum")
 *         .qemuArgs("-drive", "file=" + img + ",if=none,id=d0,format=raw",
 *                   "-device", "virtio-blk-pci,drive=d0")
 *         .run();
 * r.assertSuccess();
 * }</pre>
 *
 * Guest RAM is a shared memfd ({@code memory-backend-memfd,share=on} + {@code -numa node,memdev=mem}),
 * so vhost-user back-ends can map it; the caller adds {@code -chardev}/{@code -device} arguments.
 * {@code -nic none} keeps QEMU's default user-mode network away: guests talk only to what a test attaches.
 */
public final class Guest {
    /** Printed by the kit's /init after /test.sh: {@code JVIRTIO-TEST-EXIT=<status>}. */
    public static final String EXIT_MARKER = "JVIRTIO-TEST-EXIT=";
    /** Printed by the kit's /init once the modules are loaded, before /test.sh starts. */
    public static final String READY_MARKER = "JVIRTIO-GUEST-READY";

    private static final Pattern EXIT_PATTERN = Pattern.compile(Pattern.quote(EXIT_MARKER) + "(\\d+)");
    private static final Pattern ANSI = Pattern.compile("\u001B(?:\\[[0-9;?]*[A-Za-z]|[A-Za-z])");
    private static final AtomicInteger SEQ = new AtomicInteger();
    private static final Set<Process> LIVE = ConcurrentHashMap.newKeySet();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(() -> LIVE.forEach(Process::destroyForcibly),
                "guest-reaper"));
    }

    private Guest() {
    }

    public static Builder builder(GuestKit kit) {
        return new Builder(kit);
    }

    /** Configures and starts a guest. */
    public static final class Builder {
        private final GuestKit kit;
        private String name = "guest";
        private String script = "echo no test script given; exit 1";
        private final Map<String, byte[]> files = new LinkedHashMap<>();
        private final List<String> qemuArgs = new ArrayList<>();
        private int memoryMb = 512;
        private int cpus = 1;
        private String kernelArgs = "console=ttyS0 panic=-1 quiet";
        private String extraKernelArgs = "";
        private Duration timeout = Duration.ofSeconds(120);
        private Path workDir;

        private Builder(GuestKit kit) {
            this.kit = kit;
        }

        /** Names the run (work directory and log names). */
        public Builder name(String name) {
            this.name = name.replaceAll("[^A-Za-z0-9_.-]", "_");
            return this;
        }

        /** The shell script the guest runs as /test.sh (busybox sh); its exit status is the result. */
        public Builder script(String script) {
            this.script = script;
            return this;
        }

        /** An extra file in the guest's initramfs, e.g. {@code file("/data/pattern.bin", bytes)}. */
        public Builder file(String guestPath, byte[] content) {
            files.put(strip(guestPath), content.clone());
            return this;
        }

        /** Extra QEMU arguments ({@code -device}, {@code -chardev}, {@code -drive}, ...). */
        public Builder qemuArgs(String... args) {
            qemuArgs.addAll(Arrays.asList(args));
            return this;
        }

        public Builder memoryMb(int mb) {
            this.memoryMb = mb;
            return this;
        }

        public Builder cpus(int n) {
            this.cpus = n;
            return this;
        }

        /** Appended to the kernel command line (e.g. drop "quiet" problems with {@code loglevel=7}). */
        public Builder kernelArgs(String extra) {
            this.extraKernelArgs = extra;
            return this;
        }

        /** Whole-run timeout: boot, script and power-off. QEMU is killed when it expires. */
        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        /** Where the initrd and console.log go (default target/guest-runs/NAME-N). */
        public Builder workDir(Path dir) {
            this.workDir = dir;
            return this;
        }

        /** Boots the guest and waits for its end (exit marker, QEMU exit or timeout). */
        public Result run() {
            try (Running g = start()) {
                return g.await();
            }
        }

        /** Boots the guest and returns at once; the caller serves devices, then {@link Running#await()}s. */
        public Running start() {
            try {
                Path dir = workDir != null ? workDir
                        : GuestKit.itestsBasedir().resolve("target").resolve("guest-runs")
                                .resolve(name + "-" + ProcessHandle.current().pid() + "-" + SEQ.incrementAndGet());
                Files.createDirectories(dir);
                Path initrd = dir.resolve("initrd.img");
                Files.copy(kit.initramfs(), initrd, StandardCopyOption.REPLACE_EXISTING);
                Map<String, byte[]> overlay = new LinkedHashMap<>(files);
                overlay.put("test.sh", script.getBytes(StandardCharsets.UTF_8));
                Files.write(initrd, overlay(overlay), java.nio.file.StandardOpenOption.APPEND);

                List<String> cmd = new ArrayList<>(List.of(
                        kit.qemu().toString(),
                        "-accel", "tcg",
                        "-m", Integer.toString(memoryMb),
                        "-smp", Integer.toString(cpus),
                        "-nographic", "-no-reboot",
                        "-nic", "none",
                        "-kernel", kit.kernel().toString(),
                        "-initrd", initrd.toString(),
                        "-append", (kernelArgs + " " + extraKernelArgs).trim(),
                        "-object", "memory-backend-memfd,id=mem,size=" + memoryMb + "M,share=on",
                        "-numa", "node,memdev=mem"));
                cmd.addAll(qemuArgs);
                return new Running(name, dir, cmd, timeout);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot start guest " + name, e);
            }
        }

        private static String strip(String p) {
            String s = p;
            while (s.startsWith("/")) {
                s = s.substring(1);
            }
            if (s.isEmpty() || s.contains("..")) {
                throw new IllegalArgumentException("bad guest path " + p);
            }
            return s;
        }
    }

    /** A booted guest; closing it kills QEMU if it still runs. */
    public static final class Running implements AutoCloseable {
        private final String name;
        private final Path dir;
        private final List<String> command;
        private final Duration timeout;
        private final Process process;
        private final long startNanos;
        private final ByteArrayOutputStream raw = new ByteArrayOutputStream();
        private final Thread pump;

        Running(String name, Path dir, List<String> command, Duration timeout) throws IOException {
            this.name = name;
            this.dir = dir;
            this.command = List.copyOf(command);
            this.timeout = timeout;
            this.startNanos = System.nanoTime();
            this.process = new ProcessBuilder(command)
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            LIVE.add(process);
            Path log = dir.resolve("console.log");
            this.pump = new Thread(() -> pump(process.getInputStream(), log), "guest-console-" + name);
            pump.setDaemon(true);
            pump.start();
        }

        private void pump(InputStream in, Path log) {
            byte[] buf = new byte[8192];
            try (OutputStream out = Files.newOutputStream(log)) {
                int n;
                while ((n = in.read(buf)) > 0) {
                    out.write(buf, 0, n);
                    out.flush();
                    synchronized (raw) {
                        raw.write(buf, 0, n);
                        raw.notifyAll();
                    }
                }
            } catch (IOException e) {
                // process gone
            } finally {
                synchronized (raw) {
                    raw.notifyAll();
                }
            }
        }

        /** The QEMU command line. */
        public List<String> command() {
            return command;
        }

        public Path workDir() {
            return dir;
        }

        public Process process() {
            return process;
        }

        /** Serial console so far (QEMU's stdout and stderr), carriage returns and ANSI escapes removed. */
        public String console() {
            String s;
            synchronized (raw) {
                s = raw.toString(StandardCharsets.UTF_8);
            }
            return clean(s);
        }

        /**
         * Waits until the console contains {@code text}; false on timeout or when QEMU ended without it.
         * Use {@link Guest#READY_MARKER} to know the modules are loaded.
         */
        public boolean waitFor(String text, Duration max) throws InterruptedException {
            long deadline = System.nanoTime() + max.toNanos();
            synchronized (raw) {
                while (true) {
                    if (clean(raw.toString(StandardCharsets.UTF_8)).contains(text)) {
                        return true;
                    }
                    long left = deadline - System.nanoTime();
                    if (left <= 0 || (!process.isAlive() && !pump.isAlive())) {
                        return false;
                    }
                    raw.wait(Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(left), 200)));
                }
            }
        }

        /** Waits for the end within the builder's timeout (measured from the start). */
        public Result await() {
            long deadline = startNanos + timeout.toNanos();
            boolean timedOut = false;
            try {
                // the marker, or QEMU's own end (panic with -no-reboot, QEMU error)
                synchronized (raw) {
                    while (!EXIT_PATTERN.matcher(clean(raw.toString(StandardCharsets.UTF_8))).find()
                            && (process.isAlive() || pump.isAlive())) {
                        long left = deadline - System.nanoTime();
                        if (left <= 0) {
                            timedOut = true;
                            break;
                        }
                        raw.wait(Math.max(1, Math.min(TimeUnit.NANOSECONDS.toMillis(left), 200)));
                    }
                }
                // after the marker the guest powers off at once; give it a little time, then kill
                if (!timedOut && !process.waitFor(10, TimeUnit.SECONDS)) {
                    kill();
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                timedOut = true;
            }
            if (timedOut) {
                kill();
            }
            try {
                pump.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            long elapsed = System.nanoTime() - startNanos;
            String text = console();
            Matcher m = EXIT_PATTERN.matcher(text);
            Integer status = m.find() ? Integer.valueOf(m.group(1)) : null;
            Integer qemuExit = process.isAlive() ? null : process.exitValue();
            LIVE.remove(process);
            return new Result(name, status, timedOut, qemuExit, text, Duration.ofNanos(elapsed), command, dir);
        }

        private void kill() {
            process.destroy();
            try {
                if (!process.waitFor(3, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                    process.waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void close() {
            if (process.isAlive()) {
                kill();
            }
            LIVE.remove(process);
        }
    }

    /** How a guest ended. */
    public static final class Result {
        private final String name;
        private final Integer exitStatus;
        private final boolean timedOut;
        private final Integer qemuExitCode;
        private final String console;
        private final Duration elapsed;
        private final List<String> command;
        private final Path workDir;

        Result(String name, Integer exitStatus, boolean timedOut, Integer qemuExitCode, String console,
                Duration elapsed, List<String> command, Path workDir) {
            this.name = name;
            this.exitStatus = exitStatus;
            this.timedOut = timedOut;
            this.qemuExitCode = qemuExitCode;
            this.console = console;
            this.elapsed = elapsed;
            this.command = command;
            this.workDir = workDir;
        }

        /** The exit status of /test.sh, or -1 if the guest never printed the exit marker. */
        public int exitStatus() {
            return exitStatus == null ? -1 : exitStatus;
        }

        public boolean finished() {
            return exitStatus != null;
        }

        public boolean timedOut() {
            return timedOut;
        }

        /** QEMU's exit code (null if it had to be left running, which should not happen). */
        public Integer qemuExitCode() {
            return qemuExitCode;
        }

        public String console() {
            return console;
        }

        public Duration elapsed() {
            return elapsed;
        }

        /** Console lines (trimmed) that start with {@code prefix}, with the prefix removed. */
        public List<String> linesStartingWith(String prefix) {
            List<String> out = new ArrayList<>();
            for (String l : console.split("\n")) {
                String t = l.trim();
                if (t.startsWith(prefix)) {
                    out.add(t.substring(prefix.length()).trim());
                }
            }
            return Collections.unmodifiableList(out);
        }

        /** The single value of a {@code PREFIX value} console line; fails (printing the console) if absent. */
        public String value(String prefix) {
            List<String> v = linesStartingWith(prefix);
            if (v.isEmpty()) {
                throw failure("guest printed no line starting with '" + prefix + "'");
            }
            return v.get(v.size() - 1);
        }

        /** Fails, printing the whole console, unless /test.sh exited with 0. */
        public Result assertSuccess() {
            return assertExit(0);
        }

        public Result assertExit(int expected) {
            if (exitStatus == null || exitStatus != expected) {
                throw failure("expected exit status " + expected + " but " + describe());
            }
            return this;
        }

        /** An AssertionError carrying the whole console; the console is printed to stdout too. */
        public AssertionError failure(String message) {
            String full = "guest '" + name + "': " + message + "\n" + report();
            System.out.println(full);
            return new AssertionError(full);
        }

        private String describe() {
            if (timedOut) {
                return "timed out after " + elapsed.toMillis() + " ms (QEMU killed)";
            }
            if (exitStatus == null) {
                return "QEMU ended (exit " + qemuExitCode + ") without " + EXIT_MARKER;
            }
            return "got " + exitStatus;
        }

        /** Command, timings and the whole console, for failure messages. */
        public String report() {
            return "---- QEMU: " + String.join(" ", command) + "\n"
                    + "---- work dir: " + workDir + ", elapsed " + elapsed.toMillis() + " ms, test exit "
                    + exitStatus + ", QEMU exit " + qemuExitCode + (timedOut ? ", TIMED OUT" : "") + "\n"
                    + "---- console:\n" + console + (console.endsWith("\n") ? "" : "\n") + "---- end of console";
        }

        @Override
        public String toString() {
            return "Guest.Result[" + name + ", " + describe() + ", " + elapsed.toMillis() + " ms]";
        }
    }

    // ------------------------------------------------------------------------------------------

    static String clean(String s) {
        return ANSI.matcher(s.replace("\r", "")).replaceAll("");
    }

    /** A gzip'd cpio (newc) archive of the given files (paths relative to /), parents included. */
    static byte[] overlay(Map<String, byte[]> files) throws IOException {
        Set<String> dirs = new TreeSet<>();
        for (String p : files.keySet()) {
            for (int i = p.indexOf('/'); i > 0; i = p.indexOf('/', i + 1)) {
                dirs.add(p.substring(0, i));
            }
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(bytes)) {
            CpioWriter w = new CpioWriter(gz);
            for (String d : dirs) {
                w.entry(d, 0040755, new byte[0]);
            }
            for (Map.Entry<String, byte[]> e : files.entrySet()) {
                int mode = e.getKey().endsWith(".sh") ? 0100755 : 0100644;
                w.entry(e.getKey(), mode, e.getValue());
            }
            w.trailer();
        }
        return bytes.toByteArray();
    }

    /** Minimal cpio "newc" (070701) writer, as the kernel's initramfs unpacker reads it. */
    static final class CpioWriter {
        private final OutputStream out;
        private long written;
        private int ino = 0x4a560000;

        CpioWriter(OutputStream out) {
            this.out = out;
        }

        void entry(String name, int mode, byte[] data) throws IOException {
            byte[] n = (name + "\0").getBytes(StandardCharsets.UTF_8);
            String hdr = String.format("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
                    ino++, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, n.length, 0);
            write(hdr.getBytes(StandardCharsets.US_ASCII));
            write(n);
            pad();
            write(data);
            pad();
        }

        void trailer() throws IOException {
            entry("TRAILER!!!", 0, new byte[0]);
        }

        private void write(byte[] b) throws IOException {
            out.write(b);
            written += b.length;
        }

        private void pad() throws IOException {
            while (written % 4 != 0) {
                out.write(0);
                written++;
            }
        }
    }
}
