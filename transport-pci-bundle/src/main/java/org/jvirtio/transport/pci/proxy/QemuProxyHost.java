package org.jvirtio.transport.pci.proxy;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.jvirtio.nativeio.UnixSocket;
import org.jvirtio.transport.pci.proxy.internal.ProxyConnection;
import org.jvirtio.transport.pci.proxy.internal.QmpClient;
import org.jvirtio.transport.pci.proxy.internal.QtestClient;
import org.jvirtio.transport.pci.proxy.internal.QtestDelivery;

/**
 * PCI functions served to one QEMU through its multi-process proxy device, attached without a helper
 * process. QEMU is started paused with a QMP socket, and, under TCG, a qtest socket for interrupts:
 * <pre>
 * qemu-system-x86_64 -S -qmp unix:QMP,server=on,wait=off [-qtest unix:QTEST,server=on,wait=off -qtest-log none] ...
 * </pre>
 * For each function, {@link #attach} makes a socket pair, starts serving one end, hands the other to
 * QEMU with QMP {@code getfd} ({@code SCM_RIGHTS}) and {@code device_add x-pci-proxy-dev} at the slot;
 * QEMU probes the function while device_add runs. {@link #resume} ({@code cont}) starts the guest once
 * all are attached; {@link #start} does all of that for a list of slots.
 *
 * <p>Interrupts: with a qtest socket, INTx goes to the IOAPIC input named by the function's Interrupt
 * Line register and MSI as a memory write, both through qtest; without, INTx goes through the irqfd
 * QEMU sends (KVM), and MSI cannot be delivered.
 */
public final class QemuProxyHost implements AutoCloseable {
    /** How long one QMP or qtest answer may take by default (TCG on a loaded machine is slow). */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(60);

    private final QmpClient qmp;
    private final QtestDelivery qtest;
    private final Map<String, ProxiedFunction> functions = new LinkedHashMap<>();

    private QemuProxyHost(QmpClient qmp, QtestDelivery qtest) {
        this.qmp = qmp;
        this.qtest = qtest;
    }

    /**
     * Connects to QEMU's QMP socket and, if {@code qtestSocket} is not null, its qtest socket.
     *
     * @param timeout how long one QMP or qtest answer may take
     */
    public static QemuProxyHost connect(Path qmpSocket, Path qtestSocket, Duration timeout) throws IOException {
        QmpClient qmp = QmpClient.connect(qmpSocket, timeout);
        if (qtestSocket == null) {
            return new QemuProxyHost(qmp, null);
        }
        try {
            QtestClient client = QtestClient.connect(qtestSocket, timeout);
            return new QemuProxyHost(qmp, new QtestDelivery(client, QtestDelivery.PC_IOAPIC));
        } catch (IOException | RuntimeException e) {
            qmp.close();
            throw e;
        }
    }

    /**
     * Connects, attaches every slot, and resumes the guest: what a QEMU started with {@code -S} for a
     * known set of jvirtio functions needs. On failure everything attached so far is closed.
     */
    public static QemuProxyHost start(Path qmpSocket, Path qtestSocket, List<ProxySlot> slots, Duration timeout)
            throws IOException {
        QemuProxyHost host = connect(qmpSocket, qtestSocket, timeout);
        try {
            for (ProxySlot slot : slots) {
                host.attach(slot);
            }
            host.resume();
            return host;
        } catch (IOException | RuntimeException e) {
            host.close();
            throw e;
        }
    }

    /**
     * Builds the function, serves it, and plugs it into QEMU at its slot. Returns once QEMU has
     * realized the device (it has read the function's identity and sized its BARs).
     *
     * @throws IOException if QEMU refuses (slot taken, id in use, no x-pci-proxy-dev); the function's
     *                     channel is then closed
     */
    public synchronized ProxiedFunction attach(ProxySlot slot) throws IOException {
        if (functions.containsKey(slot.id())) {
            throw new IllegalArgumentException("device id already attached here: " + slot.id());
        }
        UnixSocket[] pair = UnixSocket.pair();
        ProxyConnection connection;
        try {
            int source = qtest != null ? qtest.register() : 0;
            connection = new ProxyConnection(slot.id(), pair[0], slot.factory(), qtest, source);
        } catch (RuntimeException e) {
            pair[0].close();
            pair[1].close();
            throw e;
        }
        Thread thread = new Thread(connection, "pci-proxy-" + slot.id());
        thread.setDaemon(true);
        thread.start();
        ProxiedFunction function = new ProxiedFunction(slot, connection, thread);
        String fdName = "jvirtio-" + slot.id();
        try (UnixSocket qemuEnd = pair[1]) {
            qmp.execute("getfd", Map.of("fdname", fdName), qemuEnd.fd());
        } catch (IOException | RuntimeException e) {
            function.close();
            throw e;
        }
        try {
            Map<String, Object> device = new LinkedHashMap<>();
            device.put("driver", "x-pci-proxy-dev");
            device.put("id", slot.id());
            device.put("fd", fdName);
            device.put("addr", Integer.toHexString(slot.slot())); // QEMU reads "slot[.fn]" in hex
            qmp.execute("device_add", device);
        } catch (IOException | RuntimeException e) {
            function.close();
            try {
                qmp.execute("closefd", Map.of("fdname", fdName));
            } catch (IOException | RuntimeException ignored) {
                // device_add may have consumed it already
            }
            throw e;
        }
        functions.put(slot.id(), function);
        return function;
    }

    /** Resumes the guest ({@code cont}). */
    public synchronized void resume() throws IOException {
        qmp.execute("cont", Map.of());
    }

    /** Runs any QMP command on this QEMU's monitor (e.g. {@code query-pci}) and returns its result. */
    public synchronized Object qmp(String command, Map<String, ?> arguments) throws IOException {
        return qmp.execute(command, arguments);
    }

    /** Sends a qtest command line and returns QEMU's answer; only with a qtest socket. */
    public String qtest(String command) throws IOException {
        if (qtest == null) {
            throw new IllegalStateException("no qtest socket");
        }
        return qtest.client().command(command);
    }

    /** The functions attached, in order. */
    public synchronized List<ProxiedFunction> functions() {
        return new ArrayList<>(functions.values());
    }

    /** Ends every function's channel and closes the QMP and qtest connections. QEMU keeps running. */
    @Override
    public synchronized void close() {
        functions.values().forEach(ProxiedFunction::close);
        functions.clear();
        if (qtest != null) {
            qtest.close();
        }
        qmp.close();
    }
}
