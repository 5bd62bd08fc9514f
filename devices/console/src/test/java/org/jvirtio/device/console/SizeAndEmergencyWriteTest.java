package org.jvirtio.device.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jvirtio.device.console.queue.ControlMessage.RESIZE;

import java.util.List;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.api.queue.DriverQueue;
import org.jvirtio.api.queue.ScatterGatherList;
import org.jvirtio.device.console.backend.memory.MemoryBackend;
import org.jvirtio.vring.DeviceVring;
import org.jvirtio.vring.QueueConfig;
import org.jvirtio.vring.Vrings;
import org.jvirtio.vring.testkit.RecordingNotifier;
import org.jvirtio.vring.testkit.RingPlacement;
import org.jvirtio.vring.testkit.TestActivation;
import org.jvirtio.vring.testkit.TestMemory;
import org.junit.jupiter.api.Test;

/** SIZE (configuration space, config interrupt, RESIZE), EMERG_WRITE, and the device without MULTIPORT. */
class SizeAndEmergencyWriteTest {

    private static int[] size(ConsoleDevice device) {
        byte[] c = new byte[4];
        device.readConfig(0, c, 0, 4);
        return new int[] {c[0] & 0xFF | (c[1] & 0xFF) << 8, c[2] & 0xFF | (c[3] & 0xFF) << 8};
    }

    @Test
    void configSpaceHoldsSizeAndMaxPorts() throws Exception {
        ConsoleDevice device = new ConsoleDevice(List.of(new MemoryBackend(), new MemoryBackend()),
                ConsoleRig.options().names("", "x").maxPorts(5).cols(132).rows(43).build());
        byte[] c = new byte[16];
        device.readConfig(0, c, 0, 16);
        assertThat(c).containsExactly(132, 0, 43, 0, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        assertThat(device.configSize()).isEqualTo(12);
        assertThat(device.queueCount()).isEqualTo(12);
        long f = device.offeredFeatures();
        assertThat(VirtioFeature.has(f, ConsoleFeatures.SIZE)).isTrue();
        assertThat(VirtioFeature.has(f, ConsoleFeatures.MULTIPORT)).isTrue();
        assertThat(VirtioFeature.has(f, ConsoleFeatures.EMERG_WRITE)).isTrue();
        device.close();
    }

    @Test
    void resizeWithMultiportUpdatesConfigInterruptsAndSendsResizeToTheConsolePort() throws Exception {
        ConsoleRig rig = ConsoleRig.withMemoryPorts(false, "", "named");
        LinuxDriver guest = new LinuxDriver(rig).probe();
        int interrupts = rig.notifier.configChanges;

        rig.device.resize(200, 50);
        assertThat(size(rig.device)).containsExactly(200, 50);
        assertThat(rig.notifier.configChanges).isEqualTo(interrupts + 1);
        guest.processControl();
        assertThat(guest.cols).isEqualTo(200);
        assertThat(guest.rows).isEqualTo(50);
        assertThat(guest.eventsFor(0)).endsWith(RESIZE);
        assertThat(guest.eventsFor(1)).doesNotContain(RESIZE);
        rig.assertHealthy();
    }

    @Test
    void withoutMultiportPortZeroIsTheConsoleAndResizeIsAConfigInterrupt() throws Exception {
        MemoryBackend console = new MemoryBackend();
        ConsoleRig rig = new ConsoleRig(List.of(console), ConsoleRig.options().build(), false,
                1L << ConsoleFeatures.MULTIPORT);
        LinuxDriver guest = new LinuxDriver(rig).probe();
        guest.write(0, "hvc0 ");
        console.send("ok");
        assertThat(guest.readText(0)).isEqualTo("ok");
        assertThat(console.outputText()).isEqualTo("hvc0 ");

        rig.device.resize(100, 30);
        assertThat(rig.notifier.configChanges).isEqualTo(1);
        assertThat(size(rig.device)).containsExactly(100, 30);
        assertThat(rig.device.isPortReady(0)).isTrue();
        rig.assertHealthy();
    }

    @Test
    void emergencyWritesReachPortZeroWithOrWithoutADriver() throws Exception {
        MemoryBackend console = new MemoryBackend();
        ConsoleDevice device = new ConsoleDevice(List.of(console), ConsoleRig.options().build());
        // before any driver: "virtio 1.2 5.3.6: without initializing virtqueues"
        device.writeConfig(8, new byte[] {'!', 0, 0, 0}, 0, 4);
        assertThat(console.outputText()).isEqualTo("!");

        ConsoleRig rig = new ConsoleRig(List.of(new MemoryBackend()), ConsoleRig.options().build(), true, 0);
        LinuxDriver guest = new LinuxDriver(rig).probe();
        guest.write(0, "a");
        rig.device.writeConfig(8, new byte[] {'b', 0, 0, 0}, 0, 4);
        guest.write(0, "c");
        assertThat(rig.memoryBackend(0).outputText()).isEqualTo("abc");
        assertThat(rig.device.count(ConsoleCounter.EMERG_WRITES)).isEqualTo(1);
        // writes to cols, rows or max_nr_ports change nothing
        rig.device.writeConfig(0, new byte[] {1, 2, 3, 4}, 0, 4);
        assertThat(size(rig.device)).containsExactly(80, 24);
        assertThat(rig.memoryBackend(0).outputText()).isEqualTo("abc");
        rig.assertHealthy();
    }

    @Test
    void withoutEmergWriteTheRegisterIsIgnored() throws Exception {
        MemoryBackend console = new MemoryBackend();
        ConsoleDevice device = new ConsoleDevice(List.of(console), ConsoleRig.options().emergWrite(false).build());
        assertThat(VirtioFeature.has(device.offeredFeatures(), ConsoleFeatures.EMERG_WRITE)).isFalse();
        device.writeConfig(8, new byte[] {'x', 0, 0, 0}, 0, 4);
        assertThat(console.output()).isEmpty();
    }

    @Test
    void aResetForgetsTheDriverButKeepsTheBackends() throws Exception {
        ConsoleRig rig = ConsoleRig.withMemoryPorts(false, "", "n");
        new LinuxDriver(rig).probe();
        rig.device.reset();
        assertThat(rig.device.isPortReady(0)).isFalse();
        rig.memoryBackend(0).send("kept");
        assertThat(rig.memoryBackend(0).pending()).as("no driver: the input waits").isEqualTo(4);
        rig.device.writeConfig(8, new byte[] {'e', 0, 0, 0}, 0, 4);
        assertThat(rig.memoryBackend(0).outputText()).isEqualTo("e");
    }

    @Test
    void withoutMultiportInputThatWaitedGoesIntoBuffersPostedBeforeTheDriverStarted() throws Exception {
        MemoryBackend console = new MemoryBackend();
        console.send("early");
        ConsoleDevice device = new ConsoleDevice(List.of(console), ConsoleRig.options().build());
        // the rig's driver posts its buffers before the device is activated, and no kick reaches it
        TestMemory memory = new TestMemory(1 << 20);
        long f = device.offeredFeatures() & ~(1L << ConsoleFeatures.MULTIPORT)
                & ~VirtioFeature.bit(VirtioFeature.RING_PACKED);
        DriverQueue[] drivers = new DriverQueue[2];
        DeviceVring[] rings = new DeviceVring[2];
        for (int q = 0; q < 2; q++) {
            QueueConfig config = RingPlacement.place(memory, 8);
            drivers[q] = Vrings.driver(config, f, memory.map());
            rings[q] = Vrings.device(config, f, memory.map());
        }
        long buffer = memory.allocate(64, 8);
        drivers[0].add(new ScatterGatherList(1).addWritable(buffer, 64), 1, false);
        drivers[0].kick(); // published, but the transport drops the notification
        device.activate(new TestActivation(f, rings, memory.map(),
                new RecordingNotifier()));
        assertThat(drivers[0].pollUsed()).isEqualTo(1);
        assertThat(memory.load(buffer, drivers[0].lastUsedLength())).isEqualTo("early".getBytes());
        assertThat(console.pending()).isZero();
        device.close();
    }
}
