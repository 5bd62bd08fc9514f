package org.jvirtio.device.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;

import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.device.console.backend.memory.MemoryBackend;
import org.jvirtio.device.console.queue.ControlMessage;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * An untrusted driver: each malformed message or chain is dropped and counted by its own counter, no
 * DEVICE_NEEDS_RESET, and every queue keeps working afterwards.
 */
class BadDriverInputTest {
    private ConsoleRig rig;
    private LinuxDriver guest;

    /** Ports 0 (console) and 1 ("named"); max_nr_ports 4, so the queues of ports 2 and 3 exist without a port. */
    @BeforeEach
    void start() throws Exception {
        rig = new ConsoleRig(List.of(new MemoryBackend(), new MemoryBackend()),
                ConsoleRig.options().names("", "named").maxPorts(4).build(), false, 0);
        guest = new LinuxDriver(rig).probe();
        guest.open(1);
        assertThat(rig.malformed()).isEmpty();
    }

    /** Data both ways on the console and the named port, a control round trip, no reset, no other counter. */
    private void assertStillWorks(ConsoleCounter expected, long count) {
        assertThat(rig.malformed()).isEqualTo(Map.of(expected, count));
        guest.write(0, "out0");
        guest.write(1, "out1");
        assertThat(rig.memoryBackend(0).outputText()).endsWith("out0");
        assertThat(rig.memoryBackend(1).outputText()).endsWith("out1");
        rig.memoryBackend(0).send("in0");
        rig.memoryBackend(1).send("in1");
        assertThat(guest.readText(0)).isEqualTo("in0");
        assertThat(guest.readText(1)).isEqualTo("in1");
        guest.close(1);
        assertThat(rig.device.isPortOpen(1)).isFalse();
        guest.open(1);
        assertThat(rig.device.isPortOpen(1)).isTrue();
        rig.assertHealthy();
    }

    private int sendRaw(byte[] message) {
        return rig.submit(3, new ScatterGatherList(1).addReadable(rig.memory.store(message), message.length));
    }

    @Test
    void controlMessageShorterThanItsHeader() {
        byte[] whole = ControlMessage.encode(1, ControlMessage.PORT_OPEN, 0, new byte[0]);
        assertThat(sendRaw(java.util.Arrays.copyOf(whole, 7))).isZero();
        assertThat(rig.device.isPortOpen(1)).as("not acted upon").isTrue();
        assertStillWorks(ConsoleCounter.CTRL_SHORT, 1);
    }

    @Test
    void unknownEventsAndDeviceOnlyEvents() {
        guest.send(1, 9, 1);
        guest.send(1, 0xFFFF, 1);
        guest.send(1, ControlMessage.PORT_ADD, 1); // an event only the device sends
        guest.send(1, ControlMessage.RESIZE, 1);
        assertStillWorks(ConsoleCounter.CTRL_UNKNOWN_EVENT, 4);
    }

    @Test
    void portIdOutOfRange() {
        guest.send(4, ControlMessage.PORT_READY, 1); // max_nr_ports is 4
        guest.send(0xFFFF_FFFF, ControlMessage.PORT_OPEN, 1);
        guest.send(0x8000_0000, ControlMessage.PORT_READY, 1);
        assertStillWorks(ConsoleCounter.CTRL_BAD_PORT_ID, 3);
    }

    @Test
    void portReadyAndPortOpenForAPortNeverAdded() {
        guest.send(3, ControlMessage.PORT_READY, 1); // below max_nr_ports, but the device has no port 3
        guest.send(2, ControlMessage.PORT_OPEN, 1);
        assertThat(rig.device.isPortReady(3)).isFalse();
        assertThat(rig.device.isPortOpen(2)).isFalse();
        guest.processControl();
        assertThat(guest.eventsFor(3)).as("nothing sent about it").isEmpty();
        assertStillWorks(ConsoleCounter.CTRL_PORT_NOT_ADDED, 2);
    }

    @Test
    void controlChainWithWritableDescriptors() {
        long at = rig.memory.store(ControlMessage.encode(1, ControlMessage.PORT_OPEN, 0, new byte[0]));
        assertThat(rig.submit(3, new ScatterGatherList(1).addWritable(at, 8))).isZero();
        assertThat(rig.submit(3, new ScatterGatherList(2).addReadable(at, 8).addWritable(rig.memory.allocate(8, 8), 8)))
                .isZero();
        assertThat(rig.device.isPortOpen(1)).isTrue();
        assertStillWorks(ConsoleCounter.CTRL_WRITABLE_DESCRIPTOR, 2);
    }

    @Test
    void receiveChainWithNoWritableSpace() {
        int bad = afterTheGoodBuffers(new ScatterGatherList(1).addReadable(rig.memory.store(new byte[16]), 16));
        assertTheBadChainWasSkipped(bad, ConsoleCounter.RX_CHAIN_NOT_WRITABLE);
    }

    @Test
    void receiveChainWithReadableParts() {
        int bad = afterTheGoodBuffers(new ScatterGatherList(2).addReadable(rig.memory.store(new byte[16]), 16)
                .addWritable(rig.memory.allocate(16, 8), 16));
        assertTheBadChainWasSkipped(bad, ConsoleCounter.RX_CHAIN_READABLE);
    }

    /** Posts {@code sg} on the console's receiveq behind the driver's 4 buffers of 64 bytes; returns its token. */
    private int afterTheGoodBuffers(ScatterGatherList sg) {
        return rig.add(ConsoleRig.rxQueue(0), sg);
    }

    /**
     * Sends more than the 4 good buffers hold: they fill, the bad chain behind them is used with length
     * 0 and counted, and the rest goes into the buffers the guest posts again: nothing lost to it.
     */
    private void assertTheBadChainWasSkipped(int bad, ConsoleCounter counter) {
        String sent = "a".repeat(64) + "b".repeat(64) + "c".repeat(64) + "d".repeat(64) + "after";
        rig.memoryBackend(0).send(sent);
        DriverQueue driver = rig.drivers[ConsoleRig.rxQueue(0)];
        StringBuilder got = new StringBuilder();
        boolean sawBad = false;
        while (got.length() < sent.length()) {
            int token = driver.pollUsed();
            assertThat(token).as("progress after %d bytes", got.length()).isNotEqualTo(DriverQueue.NO_TOKEN);
            if (token == bad) {
                sawBad = true;
                assertThat(driver.lastUsedLength()).isZero();
                continue;
            }
            // a good buffer: read it through the rig's bookkeeping and post it again
            rig.lastToken = token;
            got.append(new String(rig.memory.load(rig.addressOf(token), driver.lastUsedLength())));
            rig.repost(ConsoleRig.rxQueue(0));
        }
        assertThat(sawBad).as("the bad chain was used with length 0").isTrue();
        assertThat(got.toString()).isEqualTo(sent);
        assertThat(rig.memoryBackend(0).pending()).isZero();
        assertStillWorks(counter, 1);
    }

    @Test
    void transmitChainWithWritableOnlyDescriptors() {
        long at = rig.memory.store("secret".getBytes());
        assertThat(rig.submit(ConsoleRig.txQueue(0), new ScatterGatherList(1).addWritable(at, 6))).isZero();
        assertThat(rig.submit(ConsoleRig.txQueue(1), new ScatterGatherList(2).addWritable(at, 3).addWritable(at + 3, 3)))
                .isZero();
        assertThat(rig.memoryBackend(0).output()).isEmpty();
        assertThat(rig.memoryBackend(1).output()).isEmpty();
        assertStillWorks(ConsoleCounter.TX_WRITABLE_DESCRIPTOR, 2);
    }

    @Test
    void queuesOfAPortThatDoesNotExist() {
        // port 3's transmitq (queue 9) and receiveq (queue 8): max_nr_ports 4, but the device has 2 ports
        assertThat(rig.transmit(ConsoleRig.txQueue(3), "lost".getBytes())).isZero();
        assertThat(rig.transmit(ConsoleRig.txQueue(2), "lost".getBytes())).isZero();
        assertThat(rig.memoryBackend(0).output()).isEmpty();
        rig.post(ConsoleRig.rxQueue(3), 64);
        assertThat(rig.device.count(ConsoleCounter.RX_NO_PORT)).isEqualTo(1);
        assertThat(rig.device.count(ConsoleCounter.TX_NO_PORT)).isEqualTo(2);
        guest.write(0, "out0");
        rig.memoryBackend(0).send("in0");
        assertThat(guest.readText(0)).isEqualTo("in0");
        assertThat(rig.memoryBackend(0).outputText()).isEqualTo("out0");
        assertThat(rig.malformed()).containsOnlyKeys(ConsoleCounter.RX_NO_PORT, ConsoleCounter.TX_NO_PORT);
        rig.assertHealthy();
    }

    @Test
    void kicksForQueuesTheDeviceDoesNotHave() {
        rig.device.queueNotified(10); // max_nr_ports 4: queues 0 to 9
        rig.device.queueNotified(Integer.MAX_VALUE);
        rig.device.queueNotified(-1);
        assertStillWorks(ConsoleCounter.KICK_NO_QUEUE, 2);
    }

    @Test
    void controlQueueKicksWithoutMultiportAreNoQueue() throws Exception {
        MemoryBackend console = new MemoryBackend();
        ConsoleRig single = new ConsoleRig(List.of(console), ConsoleRig.options().build(), false,
                1L << ConsoleFeatures.MULTIPORT);
        LinuxDriver g = new LinuxDriver(single).probe();
        single.device.queueNotified(2);
        single.device.queueNotified(3);
        assertThat(single.device.count(ConsoleCounter.KICK_NO_QUEUE)).isEqualTo(2);
        g.write(0, "still");
        console.send("fine");
        assertThat(g.readText(0)).isEqualTo("fine");
        assertThat(console.outputText()).isEqualTo("still");
        single.assertHealthy();
    }

    @Test
    void controlReceiveChainsWithNoRoomForTheMessage() {
        // drain the driver's posted control buffers by having the device say something 8 times
        for (int i = 0; i < LinuxDriver.CONTROL_BUFFERS; i++) {
            rig.device.resize(81 + i, 25);
        }
        DriverQueue control = rig.drivers[2];
        int used = 0;
        while (control.pollUsed() != DriverQueue.NO_TOKEN) {
            used++;
        }
        assertThat(used).isEqualTo(LinuxDriver.CONTROL_BUFFERS);
        // now: a readable-only chain, a 4-byte one, then a good one
        int readable = rig.add(2, new ScatterGatherList(1).addReadable(rig.memory.store(new byte[64]), 64));
        int tiny = rig.add(2, new ScatterGatherList(1).addWritable(rig.memory.allocate(4, 8), 4));
        long good = rig.memory.allocate(64, 8);
        int fine = rig.add(2, new ScatterGatherList(1).addWritable(good, 64));
        rig.device.resize(132, 43);
        assertThat(control.pollUsed()).isEqualTo(readable);
        assertThat(control.lastUsedLength()).isZero();
        assertThat(control.pollUsed()).isEqualTo(tiny);
        assertThat(control.lastUsedLength()).isZero();
        assertThat(control.pollUsed()).isEqualTo(fine);
        assertThat(control.lastUsedLength()).isEqualTo(12);
        byte[] m = rig.memory.load(good, 12);
        assertThat(ControlMessage.event(m)).isEqualTo(ControlMessage.RESIZE);
        assertThat(m[8] & 0xFF).isEqualTo(132);
        assertThat(rig.device.count(ConsoleCounter.CTRL_RX_CHAIN_NOT_WRITABLE)).isEqualTo(1);
        assertThat(rig.device.count(ConsoleCounter.CTRL_RX_CHAIN_TOO_SMALL)).isEqualTo(1);
        assertThat(rig.malformed()).containsOnlyKeys(ConsoleCounter.CTRL_RX_CHAIN_NOT_WRITABLE,
                ConsoleCounter.CTRL_RX_CHAIN_TOO_SMALL);
        rig.assertHealthy();
    }

    @Test
    void aDriverThatPostsNoControlBuffersLosesOnlyTheOverflow() {
        DriverQueue control = rig.drivers[2];
        for (int i = 0; i < LinuxDriver.CONTROL_BUFFERS; i++) {
            rig.device.resize(10 + i, 10);
        }
        while (control.pollUsed() != DriverQueue.NO_TOKEN) {
            // the driver takes its buffers back and posts none
        }
        for (int i = 0; i < 100; i++) {
            rig.device.resize(100 + i, 10);
        }
        assertThat(rig.device.count(ConsoleCounter.CTRL_OUTBOX_FULL)).isEqualTo(100 - (16 + 6 * 2));
        // buffers again: the first messages kept arrive, in order
        long at = rig.memory.allocate(64, 8);
        rig.add(2, new ScatterGatherList(1).addWritable(at, 64));
        assertThat(control.pollUsed()).isNotEqualTo(DriverQueue.NO_TOKEN);
        assertThat(rig.memory.load(at, 12)[8] & 0xFF).isEqualTo(100);
        rig.assertHealthy();
    }

    @Test
    void driverReportedFailures() {
        guest.send(ControlMessage.NO_PORT, ControlMessage.DEVICE_READY, 0);
        guest.send(1, ControlMessage.PORT_READY, 0);
        assertThat(rig.device.count(ConsoleCounter.CTRL_DEVICE_FAILED)).isEqualTo(1);
        assertThat(rig.device.count(ConsoleCounter.CTRL_PORT_FAILED)).isEqualTo(1);
        assertThat(rig.malformed()).isEmpty();
        guest.write(0, "on");
        assertThat(rig.memoryBackend(0).outputText()).isEqualTo("on");
        rig.assertHealthy();
    }
}
