package org.jvirtio.itest.guest;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

/**
 * The guest kit: a Debian cloud kernel and a busybox initramfs with the virtio modules, built by
 * {@code itests/guest/build-guest-kit.sh} into {@code itests/target/guest-kit} (once per JVM; the
 * script itself does nothing when the kit is already complete).
 *
 * <p>Missing host tools (QEMU, or a prerequisite the script reports with exit code 3) make the calling
 * test <em>fail</em> when the environment variable {@code CI} is {@code true}, and skip it with a
 * message otherwise.
 *
 * <p>System properties (set by failsafe in itests/pom.xml, with sensible fall-backs):
 * {@code jvirtio.itests.basedir} (the itests module), {@code jvirtio.guestkit.dir} (kit directory),
 * {@code jvirtio.qemu} (QEMU binary, default {@code qemu-system-x86_64} on the PATH).
 */
public final class GuestKit {
    /** Exit code of build-guest-kit.sh when a host prerequisite is missing. */
    private static final int MISSING_PREREQUISITE = 3;
    private static final long BUILD_TIMEOUT_MINUTES = 15;

    private static GuestKit instance;
    /** Why the kit cannot be used here (remembered so that each test skips or fails at once). */
    private static String unavailableReason;

    private final Path dir;
    private final Path kernel;
    private final Path initramfs;
    private final Path qemu;
    private final Properties properties;

    private GuestKit(Path dir, Path qemu) throws IOException {
        this.dir = dir;
        this.kernel = dir.resolve("vmlinuz");
        this.initramfs = dir.resolve("initramfs.cpio.gz");
        this.qemu = qemu;
        this.properties = new Properties();
        try (InputStream in = Files.newInputStream(dir.resolve("kit.properties"))) {
            properties.load(in);
        }
    }

    /**
     * The kit, built if needed; skips (locally) or fails (CI) the calling test when QEMU or a build
     * prerequisite is missing.
     */
    public static synchronized GuestKit get() {
        if (unavailableReason != null) {
            unavailable(unavailableReason);
        }
        if (instance == null) {
            Path qemu = findQemu();
            Path dir = kitDir();
            build(dir);
            try {
                instance = new GuestKit(dir, qemu);
                System.out.println("guest kit: " + dir + ", kernel " + instance.property("kernel.version")
                        + ", busybox " + instance.property("busybox.version")
                        + ", modules " + instance.property("modules") + ", QEMU " + qemu);
            } catch (IOException e) {
                throw new UncheckedIOException("guest kit in " + dir + " is incomplete", e);
            }
        }
        return instance;
    }

    public Path dir() {
        return dir;
    }

    public Path kernel() {
        return kernel;
    }

    /** The base initramfs (gzip'd cpio newc); a guest appends its own overlay archive to it. */
    public Path initramfs() {
        return initramfs;
    }

    public Path qemu() {
        return qemu;
    }

    /** Contents of kit.properties: kernel.package, kernel.version, busybox.version, modules. */
    public String property(String key) {
        return properties.getProperty(key);
    }

    /** A new guest builder on this kit. */
    public Guest.Builder guest() {
        return Guest.builder(this);
    }

    // ------------------------------------------------------------------------------------------

    static boolean inCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /** Fails under CI, skips otherwise. */
    static void unavailable(String message) {
        unavailableReason = message;
        if (inCi()) {
            throw new AssertionError("real-guest tests cannot run in CI: " + message);
        }
        String skip = "real-guest tests skipped (with CI=true this is a failure): " + message;
        System.out.println(skip);
        Assumptions.abort(skip);
    }

    static Path itestsBasedir() {
        String p = System.getProperty("jvirtio.itests.basedir");
        if (p == null || p.isEmpty()) {
            p = System.getProperty("basedir", System.getProperty("user.dir"));
        }
        return Paths.get(p).toAbsolutePath();
    }

    private static Path kitDir() {
        String p = System.getProperty("jvirtio.guestkit.dir");
        return (p == null || p.isEmpty() ? itestsBasedir().resolve("target").resolve("guest-kit") : Paths.get(p))
                .toAbsolutePath();
    }

    private static Path findQemu() {
        String name = System.getProperty("jvirtio.qemu", "qemu-system-x86_64");
        if (name.contains(File.separator)) {
            Path p = Paths.get(name);
            if (Files.isExecutable(p)) {
                return p;
            }
        } else {
            String path = System.getenv().getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
            for (String d : path.split(File.pathSeparator)) {
                if (d.isEmpty()) {
                    continue;
                }
                Path p = Paths.get(d, name);
                if (Files.isExecutable(p)) {
                    return p;
                }
            }
        }
        unavailable(name + " not found (install the Debian package qemu-system-x86)");
        throw new IllegalStateException("unreachable");
    }

    private static void build(Path dir) {
        Path script = itestsBasedir().resolve("guest").resolve("build-guest-kit.sh");
        if (!Files.isRegularFile(script)) {
            throw new IllegalStateException("kit build script not found: " + script);
        }
        Path logFile = dir.resolveSibling(dir.getFileName() + ".log");
        List<String> cmd = new ArrayList<>(List.of("bash", script.toString(), dir.toString()));
        try {
            Files.createDirectories(dir.getParent());
            Process p = new ProcessBuilder(cmd)
                    .redirectErrorStream(true)
                    .redirectOutput(logFile.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .start();
            if (!p.waitFor(BUILD_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException("guest kit build timed out; log: " + logFile + "\n" + read(logFile));
            }
            int rc = p.exitValue();
            if (rc == MISSING_PREREQUISITE) {
                unavailable("guest kit build: " + read(logFile).strip());
            }
            if (rc != 0) {
                throw new IllegalStateException("guest kit build failed (exit " + rc + "): " + String.join(" ", cmd)
                        + "\n" + read(logFile));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot run " + cmd, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while building the guest kit", e);
        }
    }

    private static String read(Path f) {
        try {
            return new String(Files.readAllBytes(f), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(cannot read " + f + ": " + e + ")";
        }
    }
}
