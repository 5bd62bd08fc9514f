package org.jvirtio.distribution;

import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.jvirtio.device.net.backend.l2.SwitchRegistry;

/**
 * The plain-Java launcher behind {@code java -jar jvirtio-launcher.jar}: serves each
 * {@code --device blk,...} as a vhost-user-blk back end and each {@code --device net,...} as a
 * vhost-user net back end on its socket (listening, or with {@code client=on} connecting to QEMU's),
 * prints the QEMU options that attach a guest, and runs until SIGTERM or Ctrl-C, when a shutdown hook
 * disconnects the front ends and flushes and closes every backend. Net devices of one launcher that
 * name the same switch are ports of one in-JVM switch.
 *
 * <p>Exit codes: 0 after {@code --help}; 2 for a command line it cannot use (one line on stderr);
 * 1 if a device cannot be started (its image, or the socket it listens on); on SIGTERM the JVM's 143
 * (128 + 15) after a clean shutdown.
 *
 * <p>The runnable distribution is the Felix container ({@code jvirtio.jar},
 * {@link org.jvirtio.distribution.container.Container}), which takes the same {@code --device} options
 * (one parser: {@link DeviceOptionParser} reads the platform's checked keys). This launcher wires the
 * devices by hand, without OSGi and without live changes; it stays for the crash test, which kills it
 * under a guest, and for the benchmarks, which measure the bare data path.
 */
public final class Launcher {
    /** Guest memory the printed QEMU options give (vhost-user needs it shared: a memfd with share=on). */
    static final String GUEST_MEMORY = "1G";
    /** The switches' ageing time and table size: SwitchRegistry's configuration defaults. */
    private static final long SWITCH_AGEING_SECONDS = 300;
    private static final int SWITCH_TABLE_SIZE = 4096;
    /** Printed under the QEMU options when there is a net device. */
    static final String TCG_NET_NOTE = "Under TCG (no KVM) add vectors=0 to each virtio-net-pci: QEMU 7.2 crashes in"
            + " vhost-user net with MSI-X; vectors=0 uses INTx.";

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
        List<DeviceSpec> specs = DeviceOptionParser.parseArguments(args);
        if (specs.isEmpty()) {
            out.println(DeviceOptionParser.usage());
            return null;
        }
        SwitchRegistry switches = new SwitchRegistry(System::nanoTime,
                TimeUnit.SECONDS.toNanos(SWITCH_AGEING_SECONDS), SWITCH_TABLE_SIZE);
        List<ServedDevice> devices = new ArrayList<>();
        try {
            for (DeviceSpec spec : specs) {
                try {
                    devices.add(start(spec, switches));
                } catch (IOException | RuntimeException e) {
                    throw new IOException("cannot start " + spec.id() + ": " + e.getMessage(), e);
                }
            }
        } catch (UsageException | IOException | RuntimeException e) {
            new Running(devices).close();
            throw e;
        }
        for (ServedDevice d : devices) {
            out.println("jvirtio: serving " + d.describe());
        }
        out.println("QEMU options (with -m " + GUEST_MEMORY + "; add -accel tcg where there is no KVM):");
        out.println(qemuOptions(specs));
        if (specs.stream().anyMatch(NetDeviceSpec.class::isInstance)) {
            out.println(TCG_NET_NOTE);
        }
        out.flush();
        return new Running(devices);
    }

    private static ServedDevice start(DeviceSpec spec, SwitchRegistry switches) throws UsageException, IOException {
        if (spec instanceof NetDeviceSpec net) {
            return ServedNetDevice.start(net, switches);
        }
        return ServedBlockDevice.start((BlkDeviceSpec) spec);
    }

    /**
     * The options that give a QEMU guest shared memory and one device per spec: vhost-user-blk-pci,
     * or a vhost-user netdev with a virtio-net-pci on it. A client-mode spec's chardev listens
     * ({@code server=on,wait=off}: QEMU waits for jvirtio during device realize, not before starting).
     */
    public static String qemuOptions(List<? extends DeviceSpec> specs) {
        StringBuilder b = new StringBuilder("-object memory-backend-memfd,id=mem,size=" + GUEST_MEMORY + ",share=on"
                + " -numa node,memdev=mem");
        for (int i = 0; i < specs.size(); i++) {
            DeviceSpec s = specs.get(i);
            b.append(" -chardev socket,id=c").append(i).append(",path=").append(escape(s.socket().toString()))
                    .append(s.client() ? ",server=on,wait=off" : "");
            if (s instanceof NetDeviceSpec net) {
                netOptions(b, i, net);
            } else {
                b.append(" -device vhost-user-blk-pci,chardev=c").append(i).append(",num-queues=")
                        .append(((BlkDeviceSpec) s).queues());
            }
        }
        return b.toString();
    }

    /**
     * {@code -netdev vhost-user} on chardev {@code c<i>} and its {@code virtio-net-pci}. Several queue
     * pairs need {@code mq=on} and an MSI-X vector per queue plus two (config and control queue).
     */
    private static void netOptions(StringBuilder b, int i, NetDeviceSpec s) {
        int pairs = s.queuePairs();
        b.append(" -netdev vhost-user,id=n").append(i).append(",chardev=c").append(i)
                .append(pairs > 1 ? ",queues=" + pairs : "")
                .append(" -device virtio-net-pci,netdev=n").append(i).append(",mac=").append(s.mac())
                .append(pairs > 1 ? ",mq=on,vectors=" + (2 * pairs + 2) : "")
                .append(s.packed() ? ",packed=on" : "")
                .append(s.mergeable() ? "" : ",mrg_rxbuf=off")
                .append(s.mtu() == NetDeviceSpec.DEFAULT_MTU ? "" : ",host_mtu=" + s.mtu());
    }

    /** QEMU option values write a comma as two. */
    private static String escape(String value) {
        return value.replace(",", ",,");
    }

    /** The devices being served; {@link #close()} is idempotent (the shutdown hook and tests may both call it). */
    public static final class Running implements AutoCloseable {
        private final List<ServedDevice> devices;
        private final AtomicBoolean closed = new AtomicBoolean();

        Running(List<ServedDevice> devices) {
            this.devices = List.copyOf(devices);
        }

        public List<DeviceSpec> specs() {
            return devices.stream().map(ServedDevice::spec).toList();
        }

        /** The device called {@code id}. */
        ServedDevice device(String id) {
            return devices.stream().filter(d -> d.spec().id().equals(id)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no device " + id));
        }

        /** Closes every device in reverse order; a failure is reported and the others still close. */
        @Override
        public void close() {
            if (!closed.compareAndSet(false, true)) {
                return;
            }
            for (int i = devices.size() - 1; i >= 0; i--) {
                ServedDevice d = devices.get(i);
                try {
                    d.close();
                } catch (IOException | RuntimeException e) {
                    System.err.println("jvirtio: closing " + d.spec().id() + ": " + e);
                }
            }
        }
    }
}
