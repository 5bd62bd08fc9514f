package org.jvirtio.transport.pci.proxy.internal;

import static org.assertj.core.api.Assertions.assertThat;

import org.jvirtio.nativeio.EventFd;
import org.junit.jupiter.api.Test;

/** INTx through KVM's resampling irqfd, with eventfds standing in for the kernel's side. */
class IrqfdDeliveryTest {

    @Test
    void raisingWritesTheIrqfdAndAResampleWhileHighRaisesAgain() throws Exception {
        EventFd irq = EventFd.create(false);
        EventFd resample = EventFd.create(false);
        try (EventFd irqPeer = EventFd.adopt(irq.fd().duplicate());
                EventFd resamplePeer = EventFd.adopt(resample.fd().duplicate());
                IrqfdDelivery delivery = new IrqfdDelivery(irq, resample, null, "test")) {
            delivery.intx(0, 11, true);
            assertThat(irqPeer.read()).isEqualTo(1);
            resamplePeer.signal(); // the guest's EOI: KVM lowered the line and tells us
            assertThat(irqPeer.read()).as("still high: raised again").isEqualTo(1);
            delivery.intx(0, 11, false);
            resamplePeer.write(2); // two EOIs merged, as the kernel's counter merges them
            while (delivery.resamples.get() < 2) {
                Thread.onSpinWait(); // until the watcher has seen the EOIs (while low)
            }
            delivery.intx(0, 11, true);
            assertThat(irqPeer.read()).as("one raise, none for the resamples while low").isEqualTo(1);
            assertThat(delivery.raised.get()).isEqualTo(3);
        }
    }

    @Test
    void msiWithoutAFallbackIsCountedUndeliverable() throws Exception {
        try (IrqfdDelivery delivery = new IrqfdDelivery(EventFd.create(false), EventFd.create(false), null, "t")) {
            delivery.msi(0xfee00000L, 0x41);
            assertThat(delivery.msiUndeliverable.get()).isEqualTo(1);
        }
    }
}
