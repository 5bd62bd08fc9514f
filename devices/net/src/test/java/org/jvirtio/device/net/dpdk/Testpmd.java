package org.jvirtio.device.net.dpdk;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Assumptions;

/**
 * DPDK's {@code dpdk-testpmd} as a child process in interactive mode: commands go to its stdin, its
 * output (line-buffered through {@code stdbuf -oL}) is collected and copied to a log file, and
 * {@code show port stats 0} is parsed into {@link PortStats}.
 */
final class Testpmd implements AutoCloseable {
    static final String BINARY = "dpdk-testpmd";
    /** Printed when testpmd is ready for the next command; the first one after its ports are started. */
    static final String PROMPT = "testpmd> ";

    private static final Pattern RX = Pattern.compile("RX-packets:\\s+(\\d+)\\s+RX-missed:\\s+(\\d+)\\s+RX-bytes:\\s+(\\d+)");
    private static final Pattern RX_ERRORS = Pattern.compile("RX-errors:\\s+(\\d+)");
    private static final Pattern RX_NOMBUF = Pattern.compile("RX-nombuf:\\s+(\\d+)");
    private static final Pattern TX = Pattern.compile("TX-packets:\\s+(\\d+)\\s+TX-errors:\\s+(\\d+)\\s+TX-bytes:\\s+(\\d+)");
    private static final String STATS_START = "NIC statistics for port 0";
    private static final String STATS_END = "\n  #####"; // the closing line; the opening one ends in #s too

    private final Process process;
    private final OutputStream stdin;
    private final StringBuilder output = new StringBuilder();
    private final Thread reader;
    private final Path log;
    private final String prefix;

    /** What {@code show port stats} says: totals since the port started. */
    record PortStats(long rxPackets, long rxMissed, long rxBytes, long rxErrors, long rxNombuf, long txPackets,
            long txErrors, long txBytes) {
    }

    private Testpmd(Process process, Path log, String prefix) {
        this.process = process;
        this.prefix = prefix;
        this.stdin = process.getOutputStream();
        this.log = log;
        this.reader = new Thread(this::read, "testpmd-output");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * The binary on the PATH. Missing: a failure when {@code CI=true} (.ci/run installs dpdk-dev),
     * otherwise the test is skipped.
     */
    static Path require() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir, BINARY);
            if (Files.isExecutable(p)) {
                return p;
            }
        }
        String why = BINARY + " not found on the PATH (Debian package dpdk-dev)";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new AssertionError(why);
        }
        Assumptions.abort(why + "; skipped (with CI=true this is a failure)");
        return null;
    }

    /**
     * Starts {@code binary --file-prefix PREFIX EAL -- -i APP} with its output line-buffered; the
     * prefix names DPDK's runtime directory, removed again by {@link #close()}.
     */
    static Testpmd start(Path binary, String prefix, List<String> eal, List<String> app, Path log) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("stdbuf", "-oL", binary.toString(), "--file-prefix", prefix));
        cmd.addAll(eal);
        cmd.add("--");
        cmd.add("-i");
        cmd.addAll(app);
        Files.writeString(log, "$ " + String.join(" ", cmd) + "\n");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        return new Testpmd(p, log, prefix);
    }

    private void read() {
        byte[] buf = new byte[8192];
        try (InputStream in = process.getInputStream()) {
            int n;
            while ((n = in.read(buf)) > 0) {
                String s = new String(buf, 0, n, StandardCharsets.UTF_8);
                synchronized (output) {
                    output.append(s);
                    output.notifyAll();
                }
            }
        } catch (IOException ignored) {
            // the process is gone
        }
    }

    String output() {
        synchronized (output) {
            return output.toString();
        }
    }

    /** The last {@code n} lines of output, for failure messages. */
    String tail(int n) {
        String[] lines = output().split("\n");
        return String.join("\n", List.of(lines).subList(Math.max(0, lines.length - n), lines.length));
    }

    boolean isAlive() {
        return process.isAlive();
    }

    void command(String line) throws IOException {
        if (!process.isAlive()) {
            throw new IOException("testpmd exited (" + process.exitValue() + "):\n" + tail(30));
        }
        stdin.write((line + "\n").getBytes(StandardCharsets.US_ASCII));
        stdin.flush();
    }

    /** Waits until the output holds {@code text} after {@code from}; the index just past it. */
    int await(String text, int from, Duration timeout) throws InterruptedException, IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (output) {
            int at;
            while ((at = output.indexOf(text, from)) < 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0 || !process.isAlive()) {
                    throw new IOException("testpmd did not print \"" + text.strip() + "\" within " + timeout
                            + (process.isAlive() ? "" : " (it exited)") + ":\n" + tail(30));
                }
                output.wait(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
            }
            return at + text.length();
        }
    }

    int mark() {
        synchronized (output) {
            return output.length();
        }
    }

    PortStats portStats() throws IOException, InterruptedException {
        int from = mark();
        command("show port stats 0");
        int start = await(STATS_START, from, Duration.ofSeconds(10));
        int end = await(STATS_END, start, Duration.ofSeconds(10));
        String block = output().substring(start, end);
        Matcher rx = find(RX, block);
        Matcher tx = find(TX, block);
        return new PortStats(Long.parseLong(rx.group(1)), Long.parseLong(rx.group(2)), Long.parseLong(rx.group(3)),
                Long.parseLong(find(RX_ERRORS, block).group(1)), Long.parseLong(find(RX_NOMBUF, block).group(1)),
                Long.parseLong(tx.group(1)), Long.parseLong(tx.group(2)), Long.parseLong(tx.group(3)));
    }

    private static Matcher find(Pattern p, String block) throws IOException {
        Matcher m = p.matcher(block);
        if (!m.find()) {
            throw new IOException("no " + p + " in testpmd's statistics:\n" + block);
        }
        return m;
    }

    /** {@code quit}, then the process is killed if it has not exited within 10 s; the log is written. */
    @Override
    public void close() throws IOException, InterruptedException {
        try {
            if (process.isAlive()) {
                command("quit");
            }
        } catch (IOException ignored) {
            // it exited meanwhile
        }
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
        }
        reader.join(2000);
        Files.writeString(log, output(), StandardOpenOption.APPEND);
        deleteRuntimeDirectory();
    }

    /** EAL keeps a directory per prefix even with --no-shconf: /var/run/dpdk for root, else under XDG_RUNTIME_DIR. */
    private void deleteRuntimeDirectory() throws IOException {
        String base = System.getenv().getOrDefault("XDG_RUNTIME_DIR", "/tmp");
        Path dir = (ProcessHandle.current().info().user().orElse("").equals("root") ? Path.of("/var/run")
                : Path.of(base)).resolve("dpdk").resolve(prefix);
        if (Files.isDirectory(dir)) {
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }
}
