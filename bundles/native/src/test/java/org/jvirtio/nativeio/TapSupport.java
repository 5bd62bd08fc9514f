package org.jvirtio.nativeio;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.jvirtio.nativeio.internal.Errno;

/**
 * TAP interfaces and network namespaces for tests. Tests create only interfaces and namespaces with
 * fresh random names, delete them, and send frames only into a namespace of their own.
 *
 * <p>Without {@code /dev/net/tun}, {@code CAP_NET_ADMIN} or {@code ip}, TAP tests are skipped with the
 * reason; with {@code CI=true} that is a failure instead, so CI cannot pass by skipping them.
 */
final class TapSupport {

    private TapSupport() {
    }

    /** A name no other interface has: {@code prefix} and random hex digits, at most 15 bytes. */
    static String uniqueName(String prefix) {
        String random = Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffff_ffffL);
        String name = prefix + random;
        return name.length() > 15 ? name.substring(0, 15) : name;
    }

    /** {@link Tap#open}, or skip (fail in CI) if this machine cannot create TAP interfaces. */
    static Tap open(String ifname, boolean vnetHeader) throws NativeException {
        try {
            return Tap.open(ifname, vnetHeader);
        } catch (NativeException e) {
            if (e.errno() == Errno.ENOENT || e.errno() == Errno.EPERM || e.errno() == 13 /* EACCES */
                    || e.errno() == 19 /* ENODEV */) {
                unavailable("cannot create a TAP interface: " + e.getMessage());
            }
            throw e;
        }
    }

    static void unavailable(String why) {
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new AssertionError(why);
        }
        Assumptions.abort(why + "; skipped (with CI=true this is a failure)");
    }

    /** What a command printed and how it ended. */
    record Result(int exit, String output) {
        boolean ok() {
            return exit == 0;
        }
    }

    /** Runs {@code ip args...}, bounded to 10 s. */
    static Result ip(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add("ip");
        command.addAll(List.of(args));
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            unavailable("iproute2's ip cannot be run: " + e.getMessage());
            throw e;
        }
        byte[] output = process.getInputStream().readAllBytes();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("timed out: " + command);
        }
        return new Result(process.exitValue(), new String(output, StandardCharsets.UTF_8));
    }

    /** Runs {@code ip args...} and fails the test unless it succeeded. */
    static String ipOk(String... args) throws IOException, InterruptedException {
        Result result = ip(args);
        if (!result.ok()) {
            throw new AssertionError("ip " + String.join(" ", args) + " exited " + result.exit() + ": " + result.output());
        }
        return result.output();
    }

    static boolean linkExists(String name) throws IOException, InterruptedException {
        return ip("link", "show", "dev", name).ok();
    }

    /** A network namespace of the test's own, deleted on close. */
    static final class Namespace implements AutoCloseable {

        final String name;

        private Namespace(String name) {
            this.name = name;
        }

        static Namespace create() throws IOException, InterruptedException {
            String name = "jvtest-" + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffff_ffffL);
            Result result = TapSupport.ip("netns", "add", name);
            if (!result.ok()) {
                unavailable("cannot create a network namespace: " + result.output().trim());
            }
            return new Namespace(name);
        }

        /** {@code ip -n NS args...}, failing the test unless it succeeded. */
        String ip(String... args) throws IOException, InterruptedException {
            List<String> command = new ArrayList<>(List.of("-n", name));
            command.addAll(List.of(args));
            return ipOk(command.toArray(String[]::new));
        }

        /**
         * Moves the TAP's interface in here, without IPv6 (no link-local address, so no DAD or router
         * solicitations between the test's frames), gives it {@code address} and brings it up.
         */
        void adopt(Tap tap, String address) throws IOException, InterruptedException {
            ipOk("link", "set", "dev", tap.name(), "netns", name);
            ip("link", "set", "dev", tap.name(), "addrgenmode", "none");
            ip("address", "add", address, "dev", tap.name());
            ip("link", "set", "dev", tap.name(), "up");
        }

        /** The interface's MAC address as the namespace reports it. */
        byte[] mac(String ifname) throws IOException, InterruptedException {
            String output = ip("-o", "link", "show", "dev", ifname);
            int at = output.indexOf("link/ether ");
            if (at < 0) {
                throw new AssertionError("no MAC address in: " + output);
            }
            String[] octets = output.substring(at + 11, at + 28).split(":");
            byte[] mac = new byte[6];
            for (int i = 0; i < 6; i++) {
                mac[i] = (byte) Integer.parseInt(octets[i], 16);
            }
            return mac;
        }

        @Override
        public void close() throws IOException, InterruptedException {
            ipOk("netns", "delete", name);
        }
    }
}
