package org.jvirtio.transport.pci.component;

import java.io.IOException;
import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.jvirtio.transport.pci.proxy.ProxiedFunction;
import org.jvirtio.transport.pci.proxy.ProxySlot;
import org.jvirtio.transport.pci.proxy.QemuProxyHost;
import org.jvirtio.transport.pci.proxy.QemuSlots;

/**
 * The jvirtio PCI functions of one QEMU, named by its QMP socket: one QMP (and qtest) connection for
 * all of them, each function attached at its slot, and the guest resumed ({@code cont}) once all are.
 *
 * <p>"All" is every {@link PciTransport} configuration naming this QMP socket that is active, and
 * every slot another bundle joined through {@link QemuSlots} (virtio-mmio windows): a
 * transport joins the group when its configuration arrives, before its device exists, and leaves
 * when the configuration goes. When the last member is attached (or has failed, which is logged),
 * the group waits {@link #settleMillis} for latecomers (configurations of the same command line or
 * {@code conf/} directory still being created) and resumes if still every member is attached. A
 * member joining after the resume is attached to the running guest (PCI hot-plug).
 *
 * <p>Threads: QMP conversations block (QEMU probes the function while device_add runs), so they run
 * on this group's own thread, never on the DS thread; member state is guarded by this object.
 */
final class QemuGroup {
    private static final Logger LOG = System.getLogger("org.jvirtio.transport.pci");
    /** Between attempts to reach a QMP socket that is not there yet (QEMU started after jvirtio). */
    private static final long RECONNECT_MILLIS = 1000;

    private final Path qmp;
    private final Path qtest;
    private final long settleMillis;
    private final Duration timeout;
    private final ScheduledExecutorService worker;
    private final Map<String, QemuSlots.Slot> members = new LinkedHashMap<>();
    private QemuProxyHost host;
    private boolean resumed;
    private boolean connectFailureLogged;
    private boolean closed;

    QemuGroup(Path qmp, Path qtest, long settleMillis, Duration timeout) {
        this.qmp = qmp;
        this.qtest = qtest;
        this.settleMillis = settleMillis;
        this.timeout = timeout;
        this.worker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pci-qmp-" + qmp.getFileName());
            t.setDaemon(true);
            return t;
        });
    }

    Path qmp() {
        return qmp;
    }

    Path qtest() {
        return qtest;
    }

    /** @return null, or why {@code member} cannot join (its slot or id is another member's) */
    synchronized String join(QemuSlots.Slot member) {
        for (QemuSlots.Slot m : members.values()) {
            if (m.slot() == member.slot()) {
                return "slot " + member.slot() + " is already device " + m.id() + "'s on QMP socket " + qmp;
            }
        }
        if (members.containsKey(member.id())) {
            return "id " + member.id() + " is already attached on QMP socket " + qmp;
        }
        members.put(member.id(), member);
        return null;
    }

    /** Removes {@code member}; @return whether the group is now empty (then it is closed). */
    synchronized boolean leave(QemuSlots.Slot member) {
        if (members.remove(member.id(), member) && member.attachedOk() && host != null) {
            unplug(member.id());
        }
        if (!members.isEmpty()) {
            maybeResume(); // the one missing may have been the one that left
            return false;
        }
        closed = true;
        worker.shutdownNow();
        if (host != null) {
            host.close();
            host = null;
        }
        return true;
    }

    /**
     * Asks QEMU to unplug a leaving device ({@code device_del}: the guest ejects it, then QEMU frees
     * the slot and the id), so that a configuration created again can attach there. QEMU may be gone:
     * logged, nothing else.
     */
    private void unplug(String id) {
        try {
            host.qmp("device_del", Map.of("id", id));
            LOG.log(Level.INFO, "{0}: unplug requested from the QEMU on {1}", id, qmp);
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.WARNING, "{0}: cannot unplug from the QEMU on {1}: {2}", id, qmp, e.getMessage());
        }
    }

    /** Attaches {@code member}'s function on this group's thread. */
    void attach(QemuSlots.Slot member) {
        worker.execute(() -> attachNow(member));
    }

    private void attachNow(QemuSlots.Slot member) {
        QemuProxyHost h;
        synchronized (this) {
            if (closed || members.get(member.id()) != member || !member.wantsAttach()) {
                return;
            }
            h = connected();
            if (h == null) {
                worker.schedule(() -> attachNow(member), RECONNECT_MILLIS, TimeUnit.MILLISECONDS);
                return;
            }
        }
        ProxySlot slot = new ProxySlot(member.id(), member.slot(), member.factory());
        try {
            ProxiedFunction function = h.attach(slot);
            LOG.log(Level.INFO, "{0}: attached at PCI slot {1} of the QEMU on {2}", member.id(), member.slot(), qmp);
            member.attached(function);
        } catch (IOException | RuntimeException e) {
            LOG.log(Level.ERROR, "{0}: cannot attach at PCI slot {1} of the QEMU on {2}: {3}", member.id(),
                    member.slot(), qmp, e.getMessage());
            member.failed(e.getMessage());
        }
        synchronized (this) {
            maybeResume();
        }
    }

    /** The host, connecting if needed; null (logged once) if QEMU's sockets are not there. */
    private QemuProxyHost connected() {
        if (host != null) {
            return host;
        }
        try {
            host = QemuProxyHost.connect(qmp, qtest, timeout);
            if (connectFailureLogged) {
                LOG.log(Level.INFO, "QMP socket {0} is there now", qmp);
            }
        } catch (IOException | RuntimeException e) {
            if (!connectFailureLogged) {
                connectFailureLogged = true;
                LOG.log(Level.ERROR, "{0}: cannot connect to QEMU''s QMP socket {1}{2}: {3}; trying again every second",
                        String.join(", ", members.keySet()), qmp, qtest == null ? "" : " / qtest socket " + qtest,
                        e.getMessage());
            }
        }
        return host;
    }

    /** Resumes once every member is attached or failed, after a quiet period for latecomers. */
    private void maybeResume() {
        if (resumed || closed || host == null || !allSettled()) {
            return;
        }
        int count = members.size();
        worker.schedule(() -> {
            synchronized (this) {
                if (resumed || closed || host == null || !allSettled() || members.size() != count) {
                    return; // a latecomer's own attach will try again
                }
                List<String> attached = new ArrayList<>();
                List<String> failed = new ArrayList<>();
                members.values().forEach(m -> (m.attachedOk() ? attached : failed).add(m.id()));
                try {
                    host.resume();
                    resumed = true;
                    LOG.log(Level.INFO, "QEMU on {0}: guest resumed with {1} jvirtio PCI device(s): {2}{3}", qmp,
                            attached.size(), String.join(", ", attached),
                            failed.isEmpty() ? "" : "; not attached (see above): " + String.join(", ", failed));
                } catch (IOException | RuntimeException e) {
                    LOG.log(Level.ERROR, "{0}: cannot resume the guest (QMP cont) on {1}: {2}",
                            String.join(", ", members.keySet()), qmp, e.getMessage());
                }
            }
        }, settleMillis, TimeUnit.MILLISECONDS);
    }

    private boolean allSettled() {
        return members.values().stream().allMatch(QemuSlots.Slot::settled);
    }

    synchronized boolean resumed() {
        return resumed;
    }
}
