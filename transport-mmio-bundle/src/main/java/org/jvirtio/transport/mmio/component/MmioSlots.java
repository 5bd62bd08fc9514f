package org.jvirtio.transport.mmio.component;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import org.jvirtio.transport.pci.proxy.QemuSlots;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

/**
 * The mmio slots of every QEMU, one {@link SharedSlot} per QMP socket and slot, shared by the
 * {@link MmioTransport} windows naming it. A slot joins its QEMU's group ({@link QemuSlots}, the same
 * one the virtio-pci transports join) with its first window, so the guest is resumed once, after the
 * PCI devices and the mmio slots are all attached.
 */
@Component(service = MmioSlots.class)
public final class MmioSlots {
    private static final Logger LOG = System.getLogger("org.jvirtio.transport.mmio");
    private final QemuSlots qemus;
    private final Map<Key, SharedSlot> slots = new HashMap<>();
    /** Delays a ready slot's attach by the settle time: its other windows' configurations may still be coming. */
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "mmio-slots");
        t.setDaemon(true);
        return t;
    });

    @Activate
    public MmioSlots(@Reference QemuSlots qemus) {
        this.qemus = qemus;
    }

    @Deactivate
    void deactivate() {
        timer.shutdownNow();
    }

    /**
     * Adds {@code window} to its slot, the slot to its QEMU's group for the first window.
     *
     * @throws IllegalArgumentException naming why (window taken, slot a PCI device's, other qtest socket)
     */
    synchronized SharedSlot join(MmioTransport.Window window, Path qmp, Path qtest, int slot, long settleMillis,
            Duration timeout) {
        Key key = new Key(qmp.toAbsolutePath().normalize(), slot);
        SharedSlot s = slots.get(key);
        if (s == null) {
            s = new SharedSlot(slot);
            s.membership(qemus.join(s, qmp, qtest, settleMillis, timeout)); // throws: nothing kept
            slots.put(key, s);
        }
        String refused = s.add(window);
        if (refused != null) {
            throw new IllegalArgumentException(refused);
        }
        return s;
    }

    synchronized void leave(SharedSlot s, MmioTransport.Window window) {
        if (s.remove(window)) {
            slots.values().remove(s);
            s.membership().leave();
        }
    }

    /** A window's device arrived: attach the slot after {@code settleMillis} if it is complete then. */
    void ready(SharedSlot s, long settleMillis) {
        timer.schedule(() -> {
            if (s.wantsAttach()) {
                s.membership().attach();
            } else if (s.gap() >= 0) {
                // the guest stays paused: its SSDT declares windows this slot cannot serve
                LOG.log(Level.ERROR, "mmio slot {0}: window {1} has no device configured; the slot is not attached"
                        + " (a slot''s windows are 0 to n-1, as --mmio-ssdt declared them)", s.slot(), s.gap());
            }
        }, settleMillis, TimeUnit.MILLISECONDS);
    }

    private record Key(Path qmp, int slot) {
    }
}
