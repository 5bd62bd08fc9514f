package org.jvirtio.itest.guest;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A jvirtio back end as a child JVM, started again and again with the same command line: the plain
 * launcher ({@code distribution/target/jvirtio-launcher.jar --device ...}) or the container
 * ({@code distribution/target/jvirtio.jar ...}). Each start writes its stdout and stderr to
 * {@code backend-N.log} in the run's directory. Runs on the test JVM's own {@code java}.
 *
 * <p>The jars come from the system properties {@code jvirtio.launcher.jar} and {@code jvirtio.jar}
 * (set by failsafe in itests/pom.xml), else from {@code ../distribution/target/} of the itests module.
 */
final class BackEndProcess implements AutoCloseable {
    /** The launcher's line once every device listens. */
    private static final String SERVING = "jvirtio: serving ";
    /** The vhost-user transport's line once a socket listens (the container's devices start after its report). */
    private static final String LISTENING = "vhost-user back end for device ";
    private static final long START_TIMEOUT_MILLIS = 60_000;
    private static final Pattern RESUBMIT = Pattern.compile("resubmitting (\\d+) in-flight requests");

    private final Path dir;
    private final Path jar;
    private final List<String> args;
    private final String ready;
    private final List<Path> logs = new ArrayList<>();
    private Process process;

    private BackEndProcess(Path dir, Path jar, List<String> args, String ready) {
        this.dir = dir;
        this.jar = jar;
        this.args = List.copyOf(args);
        this.ready = ready;
    }

    /** The plain launcher serving one {@code --device}. */
    static BackEndProcess launcher(Path dir, String device) {
        return new BackEndProcess(dir, launcherJar(), List.of("--device", device), SERVING);
    }

    /**
     * The container with {@code args} (without a shell: stdin is /dev/null), ready when its one device
     * listens: give it exactly one device.
     */
    static BackEndProcess container(Path dir, List<String> args) {
        List<String> all = new ArrayList<>(List.of("--no-shell"));
        all.addAll(args);
        return new BackEndProcess(dir, containerJar(), all, LISTENING);
    }

    /** {@code distribution/target/jvirtio-launcher.jar}: the plain launcher. */
    static Path launcherJar() {
        return jar("jvirtio.launcher.jar", "jvirtio-launcher.jar");
    }

    /** {@code distribution/target/jvirtio.jar}: the container. */
    static Path containerJar() {
        return jar("jvirtio.jar", "jvirtio.jar");
    }

    private static Path jar(String property, String name) {
        String p = System.getProperty(property);
        Path jar = p != null && !p.isEmpty() ? Paths.get(p)
                : GuestKit.itestsBasedir().resolveSibling("distribution").resolve("target").resolve(name);
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(name + " (" + jar + ") not found: build the distribution module first");
        }
        return jar;
    }

    /** The test JVM's own launcher binary. */
    static String java() {
        return ProcessHandle.current().info().command()
                .orElse(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    }

    /** Starts the next back end and waits until it listens (its "serving" or "listening" line). */
    void start() throws IOException, InterruptedException {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException("back end " + logs.size() + " still runs");
        }
        Path log = dir.resolve("backend-" + (logs.size() + 1) + ".log");
        logs.add(log);
        List<String> cmd = new ArrayList<>(List.of(java(), "-Xmx256m", "-jar", jar.toString()));
        cmd.addAll(args);
        process = new ProcessBuilder(cmd)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .start();
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(START_TIMEOUT_MILLIS);
        while (!read(log).contains(ready)) {
            if (!process.isAlive() || System.nanoTime() - deadline > 0) {
                String why = process.isAlive() ? "did not listen within " + START_TIMEOUT_MILLIS + " ms"
                        : "exited with " + process.exitValue();
                process.destroyForcibly();
                throw new AssertionError("back end " + logs.size() + " " + why + ": " + String.join(" ", cmd)
                        + "\n" + logs());
            }
            Thread.sleep(20);
        }
    }

    /** How many times a back end was started. */
    int starts() {
        return logs.size();
    }

    /** Sends {@code signal} to the running back end. */
    private void signal(int signal) {
        if (Signals.LIBC.kill((int) process.pid(), signal) != 0) {
            throw new IllegalStateException("kill(" + process.pid() + ", " + signal + ") failed");
        }
    }

    /**
     * SIGSTOP, and waits until every thread of the back end is stopped: kill(2) only queues the signal,
     * a thread may run on for a moment after it returns.
     */
    void stop() throws InterruptedException {
        signal(Signals.SIGSTOP);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!allThreadsStopped()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("back end " + logs.size() + " not stopped 5 s after SIGSTOP");
            }
            Thread.onSpinWait();
        }
    }

    /** SIGCONT after {@link #stop()}. */
    void resume() {
        signal(Signals.SIGCONT);
    }

    /** Whether /proc says every task of the process is stopped (T), or gone. */
    private boolean allThreadsStopped() {
        Path tasks = Paths.get("/proc", Long.toString(process.pid()), "task");
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(tasks)) {
            for (Path task : ds) {
                String stat;
                try {
                    stat = new String(Files.readAllBytes(task.resolve("stat")), StandardCharsets.US_ASCII);
                } catch (IOException e) {
                    continue; // the thread ended
                }
                // "tid (comm) S ...": the state follows the last ')' (comm may hold spaces and parentheses)
                char state = stat.charAt(stat.lastIndexOf(')') + 2);
                if (state != 'T' && state != 't' && state != 'Z' && state != 'X') {
                    return false;
                }
            }
            return true;
        } catch (IOException e) {
            return !process.isAlive();
        }
    }

    /** SIGKILL (also when stopped); returns the exit status, 137 for a death by SIGKILL. */
    int kill() throws InterruptedException {
        signal(Signals.SIGKILL);
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            throw new AssertionError("back end " + logs.size() + " still alive 20 s after SIGKILL");
        }
        return process.exitValue();
    }

    /**
     * SIGTERM (a clean shutdown; also when stopped: the signal waits for SIGCONT, which this sends);
     * returns the exit status, 143 for a clean exit on SIGTERM.
     */
    int terminate() throws InterruptedException {
        signal(Signals.SIGTERM);
        signal(Signals.SIGCONT);
        if (!process.waitFor(40, TimeUnit.SECONDS)) {
            throw new AssertionError("back end " + logs.size() + " still alive 40 s after SIGTERM");
        }
        return process.exitValue();
    }

    /** Per start: the sum of N over its {@code resubmitting N in-flight requests} lines. */
    List<Integer> resubmittedPerStart() {
        List<Integer> out = new ArrayList<>();
        for (Path log : logs) {
            int n = 0;
            Matcher m = RESUBMIT.matcher(read(log));
            while (m.find()) {
                n += Integer.parseInt(m.group(1));
            }
            out.add(n);
        }
        return out;
    }

    /** Per start: how many {@code resubmitting} lines it logged. */
    List<Integer> resubmitLinesPerStart() {
        List<Integer> out = new ArrayList<>();
        for (Path log : logs) {
            int n = 0;
            Matcher m = RESUBMIT.matcher(read(log));
            while (m.find()) {
                n++;
            }
            out.add(n);
        }
        return out;
    }

    /**
     * WARNING and SEVERE records of every start, one per line: java.util.logging's two-line format (the
     * launcher: the level starts the line) or the container's one-line format (the level after the time).
     */
    String warnings() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < logs.size(); i++) {
            String[] lines = read(logs.get(i)).split("\n");
            for (int j = 0; j < lines.length; j++) {
                if (lines[j].startsWith("WARNING:") || lines[j].startsWith("SEVERE:")
                        || lines[j].matches("^\\S+ \\S+ (WARNING|SEVERE) .*") || lines[j].contains("Exception")) {
                    b.append("\n    backend-").append(i + 1).append(": ").append(lines[j]);
                }
            }
        }
        return b.length() == 0 ? " none" : b.toString();
    }

    /** Every start's log, for failure messages. */
    String logs() {
        StringBuilder b = new StringBuilder();
        for (Path log : logs) {
            b.append("---- ").append(log).append(":\n").append(read(log));
        }
        return b.append("---- end of back-end logs").toString();
    }

    /** SIGTERM (a clean shutdown) if still running; SIGKILL if that does not end it. */
    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.toHandle().destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    private static String read(Path f) {
        try {
            return Files.exists(f) ? new String(Files.readAllBytes(f), StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(cannot read " + f + ": " + e + ")";
        }
    }
}
