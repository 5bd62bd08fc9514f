package org.jvirtio.device.net.backend.tap;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

/**
 * A network namespace of a test's own (deleted on close), into which the test moves a TAP interface:
 * the host's network stack at the far end of the TAP, and nothing else, so frames the test sends
 * never reach any other address. Driven with iproute2's {@code ip}, as bundles/native's TAP tests do.
 *
 * <p>Without {@code ip}, root (CAP_NET_ADMIN, CAP_SYS_ADMIN) or /dev/net/tun the tests that need this
 * are skipped with the reason; with {@code CI=true} that is a failure instead, so CI cannot pass by
 * skipping them.
 */
public final class HostNamespace implements AutoCloseable {
    public final String name;

    private HostNamespace(String name) {
        this.name = name;
    }

    public static void unavailable(String why) {
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            throw new AssertionError(why);
        }
        Assumptions.abort(why + "; skipped (with CI=true this is a failure)");
    }

    /** A name no other interface has: {@code prefix} and random hex digits, at most 15 bytes. */
    public static String uniqueInterfaceName(String prefix) {
        String name = prefix + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffff_ffffL);
        return name.length() > 15 ? name.substring(0, 15) : name;
    }

    public static HostNamespace create() throws IOException, InterruptedException {
        String name = "jvnet-" + Long.toHexString(ThreadLocalRandom.current().nextLong() & 0xffff_ffffL);
        Result result = run("ip", "netns", "add", name);
        if (!result.ok()) {
            unavailable("cannot create a network namespace: " + result.output().trim());
        }
        return new HostNamespace(name);
    }

    /** What a command printed and how it ended. */
    public record Result(int exit, String output) {
        public boolean ok() {
            return exit == 0;
        }
    }

    /** Runs a command, bounded to 10 s; a missing program makes the test unavailable. */
    public static Result run(String... command) throws IOException, InterruptedException {
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            unavailable(command[0] + " cannot be run: " + e.getMessage());
            throw e;
        }
        byte[] output = process.getInputStream().readAllBytes();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("timed out: " + String.join(" ", command));
        }
        return new Result(process.exitValue(), new String(output, StandardCharsets.UTF_8));
    }

    public static String runOk(String... command) throws IOException, InterruptedException {
        Result result = run(command);
        if (!result.ok()) {
            throw new AssertionError(String.join(" ", command) + " exited " + result.exit() + ": " + result.output());
        }
        return result.output();
    }

    public static boolean linkExists(String ifname) throws IOException, InterruptedException {
        return run("ip", "link", "show", "dev", ifname).ok();
    }

    /** {@code ip -n NS args...}, failing the test unless it succeeded. */
    public String ip(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("ip", "-n", name));
        command.addAll(List.of(args));
        return runOk(command.toArray(String[]::new));
    }

    /** Runs {@code command} inside the namespace. */
    public String exec(String... command) throws IOException, InterruptedException {
        List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", name));
        full.addAll(List.of(command));
        return runOk(full.toArray(String[]::new));
    }

    /**
     * Moves interface {@code ifname} in here, without IPv6 (no link-local address, so no neighbour
     * discovery between the test's frames), gives it {@code cidr} and brings it up.
     */
    public void adopt(String ifname, String cidr) throws IOException, InterruptedException {
        runOk("ip", "link", "set", "dev", ifname, "netns", name);
        ip("link", "set", "dev", ifname, "addrgenmode", "none");
        ip("address", "add", cidr, "dev", ifname);
        ip("link", "set", "dev", ifname, "up");
    }

    /** A permanent neighbour entry, so the stack answers {@code address} without asking by ARP first. */
    public void neighbour(String ifname, String address, byte[] mac) throws IOException, InterruptedException {
        ip("neigh", "replace", address, "lladdr", macText(mac), "dev", ifname, "nud", "permanent");
    }

    /** The interface's MAC address as the namespace reports it. */
    public byte[] mac(String ifname) throws IOException, InterruptedException {
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

    static String macText(byte[] mac) {
        StringBuilder b = new StringBuilder();
        for (byte m : mac) {
            b.append(b.length() == 0 ? "" : ":").append(String.format("%02x", m & 0xff));
        }
        return b.toString();
    }

    @Override
    public void close() throws IOException, InterruptedException {
        runOk("ip", "netns", "delete", name);
    }
}
