package org.jvirtio.distribution;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The interim plain-Java launcher behind {@code java -jar jvirtio.jar}: serves each
 * {@code --device blk,...} as a vhost-user-blk back end on its socket (listening, or with
 * {@code client=on} connecting to QEMU's), prints the QEMU options that
 * attach a guest, and runs until SIGTERM or Ctrl-C, when a shutdown hook disconnects the front ends
 * and flushes and closes every backend.
 *
 * <p>Exit codes: 0 after {@code --help}; 2 for a command line it cannot use (one line on stderr);
 * 1 if a device cannot be started (its image, or the socket it listens on); on SIGTERM the JVM's 143
 * (128 + 15) after a clean shutdown.
 *
 * <p><b>Interim.</b> This launcher wires devices by hand, without OSGi. The runnable distribution is
 * the Felix container (Declarative Services + Configuration Admin) of a later issue, which replaces
 * this class; {@link DeviceOptionParser} stays, to turn the same {@code --device} strings into factory
 * configurations.
 */
public final class Launcher {
    /** Guest memory the printed QEMU options give (vhost-user needs it shared: a memfd with share=on). */
    static final String GUEST_MEMORY = "1G";

    private Launcher() {
    }

    public static void main(String[] args) throws InterruptedException {
        Running running;
        try {
            running = launch(Arrays.asList(args), System.out);
        } catch (UsageException e) {
            System.err.println("jvirtio: " + e.getMessage());
            System.exit(2);
            return;
        } catch (IOException | RuntimeException e) {
            System.err.println("jvirtio: " + e.getMessage());
            System.exit(1);
            return;
        }
        if (running == null) {
            return; // --help
        }
        Runtime.getRuntime().addShutdownHook(new Thread(running::close, "jvirtio-shutdown"));
        // the vhost-user threads are daemons: this thread keeps the JVM up until a signal ends it
        Thread.currentThread().join();
    }

    /**
     * Parses {@code args}, starts every device and prints what it serves and the QEMU options to
     * {@code out}. On any failure the devices already started are closed again.
     *
     * @return the running devices, or null after printing the usage for {@code --help}
     */
    public static Running launch(List<String> args, PrintStream out) throws UsageException, IOException {
        List<BlkDeviceSpec> specs = DeviceOptionParser.parseArguments(args);
        if (specs.isEmpty()) {
            out.println(DeviceOptionParser.usage());
            return null;
        }
        List<ServedBlockDevice> devices = new ArrayList<>();
        try {
            for (BlkDeviceSpec spec : specs) {
                try {
                    devices.add(ServedBlockDevice.start(spec));
                } catch (IOException | RuntimeException e) {
                    throw new IOException("cannot start " + spec.id() + ": " + e.getMessage(), e);
                }
            }
        } catch (UsageException | IOException | RuntimeException e) {
            new Running(devices).close();
            throw e;
        }
        for (ServedBlockDevice d : devices) {
            out.println("jvirtio: serving " + d.describe());
        }
        out.println("QEMU options (with -m " + GUEST_MEMORY + "; add -accel tcg where there is no KVM):");
        out.println(qemuOptions(specs));
        out.flush();
        return new Running(devices);
    }

    /**
     * The options that give a QEMU guest shared memory and one vhost-user-blk-pci device per spec; a
     * client-mode spec's chardev listens ({@code server=on,wait=off}: QEMU waits for jvirtio during
     * device realize, not before starting).
     */
    public static String qemuOptions(List<BlkDeviceSpec> specs) {
        StringBuilder b = new StringBuilder("-object memory-backend-memfd,id=mem,size=" + GUEST_MEMORY + ",share=on"
                + " -numa node,memdev=mem");
        for (int i = 0; i < specs.size(); i++) {
            BlkDeviceSpec s = specs.get(i);
            b.append(" -chardev socket,id=c").append(i).append(",path=").append(escape(s.socket().toString()))
                    .append(s.client() ? ",server=on,wait=off" : "")
                    .append(" -device vhost-user-blk-pci,chardev=c").append(i).append(",num-queues=").append(s.queues());
        }
        return b.toString();
    }

    /** QEMU option values write a comma as two. */
    private static String escape(String value) {
        return value.replace(",", ",,");
    }

    /** The devices being served; {@link #close()} is idempotent (the shutdown hook and tests may both call it). */
    public static final class Running implements AutoCloseable {
        private final List<ServedBlockDevice> devices;
        private final AtomicBoolean closed = new AtomicBoolean();

        Running(List<ServedBlockDevice> devices) {
            this.devices = List.copyOf(devices);
        }

        public List<BlkDeviceSpec> specs() {
            return devices.stream().map(ServedBlockDevice::spec).toList();
        }

        /** Closes every device in reverse order; a failure is reported and the others still close. */
        @Override
        public void close() {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            for (int i = devices.size() - 1; i >= 0; i--) {
                ServedBlockDevice d = devices.get(i);
                try {
                    d.close();
                } catch (IOException | RuntimeException e) {
                    System.err.println("jvirtio: closing " + d.spec().id() + ": " + e);
                }
            }
        }
    }
}
