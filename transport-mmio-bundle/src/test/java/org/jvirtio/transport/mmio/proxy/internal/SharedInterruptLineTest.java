package org.jvirtio.transport.mmio.proxy.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

import org.jvirtio.transport.mmio.MmioInterruptLine;
import org.jvirtio.transport.pci.proxy.PciInterrupts;
import org.junit.jupiter.api.Test;

/**
 * The pin shared by the windows: raised by the first window that asserts, lowered by the last that
 * deasserts, and never told out of order, even when windows change their lines from many threads.
 */
class SharedInterruptLineTest {

    private static final class Pin implements PciInterrupts {
        final List<Boolean> calls = new ArrayList<>();

        @Override
        public synchronized void setIntx(boolean asserted) {
            calls.add(asserted);
        }

        @Override
        public void sendMsi(long address, int data) {
            throw new AssertionError("no MSI");
        }

        synchronized List<Boolean> calls() {
            return new ArrayList<>(calls);
        }
    }

    @Test
    void thePinFollowsTheOrOfTheWindows() {
        Pin pin = new Pin();
        SharedInterruptLine line = new SharedInterruptLine(pin);
        MmioInterruptLine a = line.window(0);
        MmioInterruptLine b = line.window(63);
        a.set(true);
        b.set(true);
        a.set(true); // a window's line set again: no change
        assertThat(pin.calls()).containsExactly(true);
        a.set(false);
        assertThat(line.isAsserted()).isTrue();
        b.set(false);
        b.set(false);
        assertThat(pin.calls()).containsExactly(true, false);
        assertThat(line.isAsserted()).isFalse();
        assertThat(line.raises()).isEqualTo(1);
        assertThatThrownBy(() -> line.window(64)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> line.window(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void windowsOnManyThreadsNeverReachThePinOutOfOrder() throws Exception {
        Pin pin = new Pin();
        SharedInterruptLine line = new SharedInterruptLine(pin);
        int threads = 4;
        int rounds = 20_000;
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            MmioInterruptLine window = line.window(t);
            Thread w = new Thread(() -> {
                try {
                    start.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int i = 0; i < rounds; i++) {
                    window.set(true);
                    window.set(false);
                }
            });
            w.start();
            workers.add(w);
        }
        start.countDown();
        for (Thread w : workers) {
            w.join();
        }
        List<Boolean> calls = pin.calls();
        // every call a change, alternating from raise to lower, ending low like every window
        assertThat(calls).isNotEmpty();
        for (int i = 0; i < calls.size(); i++) {
            assertThat(calls.get(i)).as("call " + i).isEqualTo(i % 2 == 0);
        }
        assertThat(calls.get(calls.size() - 1)).isFalse();
        assertThat(line.isAsserted()).isFalse();
        assertThat(line.raises()).isEqualTo(calls.size() / 2);
    }
}
