package org.jvirtio.transport.pci.component;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.jvirtio.transport.pci.proxy.QemuSlots;

/** Which PCI transports (and other transports' slots) share a QEMU, and which cannot join it. No QEMU: nothing here connects. */
class QemuAttachmentsTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(1);
    private final QemuAttachments attachments = new QemuAttachments();

    private QemuGroup join(String id, int slot, String qmp, String qtest) {
        return attachments.joinGroup(new PciTransport.Member(id, slot), Path.of(qmp), qtest == null ? null : Path.of(qtest),
                0, TIMEOUT);
    }

    @Test
    void devicesNamingOneQmpSocketShareOneGroup() {
        QemuGroup a = join("a", 5, "/run/vm/qmp.sock", "/run/vm/qtest.sock");
        QemuGroup b = join("b", 6, "/run/vm/../vm/qmp.sock", "/run/vm/qtest.sock");
        QemuGroup c = join("c", 5, "/run/other/qmp.sock", null);
        assertThat(b).isSameAs(a);
        assertThat(c).isNotSameAs(a);
        assertThat(a.qmp()).isEqualTo(Path.of("/run/vm/qmp.sock"));
    }

    @Test
    void aSlotOrAnIdIsTakenOncePerQemu() {
        join("a", 5, "/run/vm/qmp.sock", null);
        assertThatThrownBy(() -> join("b", 5, "/run/vm/qmp.sock", null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("slot 5 is already device a's on QMP socket /run/vm/qmp.sock");
        assertThatThrownBy(() -> join("a", 6, "/run/vm/qmp.sock", null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("id a is already attached on QMP socket /run/vm/qmp.sock");
    }

    @Test
    void theDevicesOfOneQemuNameOneQtestSocket() {
        join("a", 5, "/run/vm/qmp.sock", "/run/vm/qtest.sock");
        assertThatThrownBy(() -> join("b", 6, "/run/vm/qmp.sock", null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("already used with qtest socket /run/vm/qtest.sock, this device names none");
        assertThatThrownBy(() -> join("b", 6, "/run/vm/qmp.sock", "/run/vm/other.sock"))
                .hasMessageContaining("this device names /run/vm/other.sock");
    }

    @Test
    void theLastToLeaveClosesTheGroupAndFreesItsSlots() {
        PciTransport.Member a = new PciTransport.Member("a", 5);
        QemuGroup g = attachments.joinGroup(a, Path.of("/run/vm/qmp.sock"), null, 0, TIMEOUT);
        attachments.leave(g, a);
        QemuGroup next = join("b", 5, "/run/vm/qmp.sock", "/run/vm/qtest.sock");
        assertThat(next).isNotSameAs(g);
        assertThat(next.qtest()).isEqualTo(Path.of("/run/vm/qtest.sock"));
    }

    /** Another transport's slot (the mmio bundle's) through the {@link QemuSlots} service: the same group and checks. */
    @Test
    void anotherTransportsSlotJoinsTheSameGroupThroughTheService() {
        QemuSlots service = attachments;
        QemuGroup g = join("a", 5, "/run/vm/qmp.sock", null);
        PciTransport.Member foreign = new PciTransport.Member("jvirtio-mmio-slot6", 6);
        QemuSlots.Membership m = service.join(foreign, Path.of("/run/vm/qmp.sock"), null, 0, TIMEOUT);
        assertThatThrownBy(() -> service.join(new PciTransport.Member("x", 5), Path.of("/run/vm/qmp.sock"), null, 0,
                TIMEOUT)).hasMessage("slot 5 is already device a's on QMP socket /run/vm/qmp.sock");
        assertThatThrownBy(() -> join("b", 6, "/run/vm/qmp.sock", null))
                .hasMessage("slot 6 is already device jvirtio-mmio-slot6's on QMP socket /run/vm/qmp.sock");
        m.leave();
        assertThat(join("b", 6, "/run/vm/qmp.sock", null)).as("the slot is free again, the group stays").isSameAs(g);
    }
}
