package org.jvirtio.transport.pci.proxy;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The QEMUs jvirtio attaches proxied PCI functions to, one group per QMP socket, as a service: one QMP
 * connection per QEMU however many slots name it, and the guest resumed ({@code cont}) once every
 * slot that joined is attached or refused. The virtio-pci transport joins with one slot per device;
 * another transport (virtio-mmio windows in a slot's BAR) joins the same group, so a QEMU with both
 * kinds resumes once, after all of them.
 */
public interface QemuSlots {

    /**
     * Adds {@code slot} to the group of QMP socket {@code qmp}, creating the group (and, on its first
     * attach, the connection) for the first.
     *
     * @param qtest        QEMU's qtest socket, null for none (KVM)
     * @param settleMillis how long the group waits for latecomers once every slot is attached
     * @param timeout      how long one QMP or qtest answer may take
     * @return the membership, through which the slot asks to be attached and leaves
     * @throws IllegalArgumentException naming why the slot cannot join (its slot number or id is
     *                                  taken, the group has another qtest socket)
     */
    Membership join(Slot slot, Path qmp, Path qtest, long settleMillis, Duration timeout);

    /** One slot of a group, implemented by the transport that fills it. Called on the group's thread. */
    interface Slot {
        /** The name QEMU knows the proxy device by ({@code device_add id=}). */
        String id();

        /** The PCI slot on bus 0. */
        int slot();

        /** Whether the slot is ready to be attached now (its devices are there) and was not yet. */
        boolean wantsAttach();

        /** The function to attach; asked once per attach, when {@link #wantsAttach()} said so. */
        PciFunctionFactory factory();

        /** QEMU took the function. */
        void attached(ProxiedFunction function);

        /** QEMU refused it, or it could not be built: logged by the group, {@code why} kept for the state. */
        void failed(String why);

        /** Attached or failed: this slot does not hold the guest back. */
        boolean settled();

        /** Attached and not failed: what the guest resumes with. */
        boolean attachedOk();
    }

    /** A slot's place in its group. */
    interface Membership {
        /** Asks the group to attach the slot (on the group's thread, once the QMP socket is there). */
        void attach();

        /** Leaves the group: an attached slot is unplugged ({@code device_del}); the last one closes the connection. */
        void leave();
    }
}
