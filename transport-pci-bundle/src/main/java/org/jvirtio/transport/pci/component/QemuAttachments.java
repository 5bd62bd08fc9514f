package org.jvirtio.transport.pci.component;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

import org.jvirtio.transport.pci.proxy.QemuSlots;
import org.osgi.service.component.annotations.Component;

/**
 * The QEMUs this bundle attaches PCI functions to, one {@link QemuGroup} per QMP socket, shared by
 * every {@link PciTransport} and, as the {@link QemuSlots} service, by other transports' slots: one QMP
 * connection per socket however many devices name it.
 */
@Component(service = {QemuAttachments.class, QemuSlots.class})
public final class QemuAttachments implements QemuSlots {
    private final Map<Path, QemuGroup> groups = new HashMap<>();

    /**
     * Adds {@code member} to the group of its QMP socket, creating the group for the first.
     *
     * @return the group {@code member} is now part of
     * @throws IllegalArgumentException naming why the member cannot join (slot or id taken, another
     *                                  qtest socket than the group's)
     */
    synchronized QemuGroup joinGroup(Slot member, Path qmp, Path qtest, long settleMillis, Duration timeout) {
        Path key = qmp.toAbsolutePath().normalize();
        QemuGroup group = groups.get(key);
        if (group == null) {
            group = new QemuGroup(key, qtest, settleMillis, timeout);
            groups.put(key, group);
        } else if (!Objects.equals(group.qtest(), qtest)) {
            throw new IllegalArgumentException("QMP socket " + qmp + " is already used with "
                    + (group.qtest() == null ? "no qtest socket" : "qtest socket " + group.qtest())
                    + ", this device names " + (qtest == null ? "none" : qtest));
        }
        String refused = group.join(member);
        if (refused != null) {
            throw new IllegalArgumentException(refused);
        }
        return group;
    }

    @Override
    public Membership join(Slot slot, Path qmp, Path qtest, long settleMillis, Duration timeout) {
        QemuGroup group = joinGroup(slot, qmp, qtest, settleMillis, timeout);
        return new Membership() {
            @Override
            public void attach() {
                group.attach(slot);
            }

            @Override
            public void leave() {
                QemuAttachments.this.leave(group, slot);
            }
        };
    }

    synchronized void leave(QemuGroup group, QemuSlots.Slot member) {
        if (group.leave(member)) {
            groups.remove(group.qmp(), group);
        }
    }
}
