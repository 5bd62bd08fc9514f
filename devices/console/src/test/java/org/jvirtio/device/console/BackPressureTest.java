package org.jvirtio.device.console;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.util.Random;

import org.jvirtio.device.console.backend.memory.MemoryBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The host sends more than the guest has buffers for: everything arrives, in order, once. */
class BackPressureTest {

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void inputWaitsForBuffersAndNothingIsLostOrDuplicated(boolean packed) throws Exception {
        ConsoleRig rig = ConsoleRig.withMemoryPorts(packed, "", "bulk");
        // 3 buffers of 100 bytes on the named port: 300 bytes of room at a time
        LinuxDriver guest = new LinuxDriver(rig, 3, 100).probe();
        guest.open(1);
        MemoryBackend host = rig.memoryBackend(1);
        byte[] sent = new byte[10_000];
        new Random(6).nextBytes(sent);

        host.send(sent);
        assertThat(host.pending()).as("only what fits in the guest's buffers left").isEqualTo(sent.length - 300);
        assertThat(rig.device.count(ConsoleCounter.RX_NO_ROOM)).isPositive();

        ByteArrayOutputStream received = new ByteArrayOutputStream();
        int rounds = 0;
        while (received.size() < sent.length) {
            // the guest consumes and re-posts (each re-post kicks, the device asks the backend for more)
            byte[] chunk = guest.read(1);
            assertThat(chunk).as("progress in round %d", rounds).isNotEmpty();
            received.writeBytes(chunk);
            rounds++;
        }
        assertThat(received.toByteArray()).isEqualTo(sent);
        assertThat(host.pending()).isZero();
        assertThat(guest.read(1)).as("nothing written twice").isEmpty();
        assertThat(rig.device.count(ConsoleCounter.RX_BYTES)).isEqualTo(sent.length);
        assertThat(rig.malformed()).isEmpty();
        rig.assertHealthy();
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void interleavedSendsKeepTheirOrder(boolean packed) throws Exception {
        ConsoleRig rig = ConsoleRig.withMemoryPorts(packed, "");
        LinuxDriver guest = new LinuxDriver(rig, 1, 7).probe();
        MemoryBackend host = rig.memoryBackend(0);
        StringBuilder expected = new StringBuilder();
        StringBuilder got = new StringBuilder();
        for (int i = 0; i < 50; i++) {
            String s = "line " + i + "\n";
            host.send(s);
            expected.append(s);
            got.append(guest.readText(0));
        }
        while (host.pending() > 0) {
            got.append(guest.readText(0));
        }
        assertThat(got.toString()).isEqualTo(expected.toString());
        rig.assertHealthy();
    }

    @Test
    void aSenderOnAnotherThreadRacingTheGuestsBuffersLosesAndRepeatsNothing() throws Exception {
        ConsoleRig rig = ConsoleRig.withMemoryPorts(true, "");
        LinuxDriver guest = new LinuxDriver(rig, 2, 16).probe();
        MemoryBackend host = rig.memoryBackend(0);
        StringBuilder expected = new StringBuilder();
        for (int i = 0; i < 2000; i++) {
            expected.append(i).append(',');
        }
        Thread sender = new Thread(() -> {
            for (int i = 0; i < 2000; i++) {
                host.send(i + ","); // offers on this thread while the guest's kicks offer on the test thread
            }
        });
        sender.start();
        StringBuilder got = new StringBuilder();
        long deadline = System.nanoTime() + 120_000_000_000L;
        while (got.length() < expected.length()) {
            got.append(guest.readText(0));
            assertThat(System.nanoTime() - deadline).as("still receiving").isNegative();
        }
        sender.join();
        assertThat(got.toString()).isEqualTo(expected.toString());
        assertThat(host.pending()).isZero();
        assertThat(guest.read(0)).isEmpty();
        rig.assertHealthy();
    }
}
