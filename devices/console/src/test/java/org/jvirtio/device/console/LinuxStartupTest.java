package org.jvirtio.device.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.jvirtio.device.console.queue.ControlMessage.CONSOLE_PORT;
import static org.jvirtio.device.console.queue.ControlMessage.PORT_ADD;
import static org.jvirtio.device.console.queue.ControlMessage.PORT_NAME;
import static org.jvirtio.device.console.queue.ControlMessage.PORT_OPEN;
import static org.jvirtio.device.console.queue.ControlMessage.PORT_REMOVE;
import static org.jvirtio.device.console.queue.ControlMessage.RESIZE;

import java.util.List;

import org.jvirtio.device.console.backend.memory.MemoryBackend;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The MULTIPORT start-up as Linux's driver runs it, and data both ways on the console and named ports. */
class LinuxStartupTest {

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void everyPortIsAddedThenDescribedOnlyAfterItsPortReady(boolean packed) throws Exception {
        ConsoleRig rig = ConsoleRig.withMemoryPorts(packed, "", "org.jvirtio.one", "org.jvirtio.two");
        LinuxDriver guest = new LinuxDriver(rig).probe();

        assertThat(guest.ports).containsExactly(0, 1, 2);
        assertThat(guest.ignored).as("nothing about a port the driver did not know yet").isEmpty();
        // port 0: the console (hvc0), its size, the host side attached (memory backends are)
        assertThat(guest.eventsFor(0)).containsExactly(PORT_ADD, CONSOLE_PORT, RESIZE, PORT_OPEN);
        assertThat(guest.consolePort).isZero();
        assertThat(guest.cols).isEqualTo(80);
        assertThat(guest.rows).isEqualTo(24);
        // named ports: /dev/vport0p1 with /sys/class/virtio-ports/vport0p1/name
        assertThat(guest.eventsFor(1)).containsExactly(PORT_ADD, PORT_NAME, PORT_OPEN);
        assertThat(guest.eventsFor(2)).containsExactly(PORT_ADD, PORT_NAME, PORT_OPEN);
        assertThat(guest.names).containsEntry(1, "org.jvirtio.one").containsEntry(2, "org.jvirtio.two")
                .doesNotContainKey(0);
        assertThat(guest.hostConnected).containsEntry(0, true).containsEntry(1, true).containsEntry(2, true);
        for (int p = 0; p < 3; p++) {
            assertThat(rig.device.isPortReady(p)).isTrue();
        }
        // the driver opened its console itself; named ports wait for a program
        assertThat(rig.device.isPortOpen(0)).isTrue();
        assertThat(rig.device.isPortOpen(1)).isFalse();
        assertThat(rig.malformed()).isEmpty();
        rig.assertHealthy();
    }

    @ParameterizedTest(name = "packed={0}")
    @ValueSource(booleans = {false, true})
    void consoleDataGoesBothWays(boolean packed) throws Exception {
        ConsoleRig rig = ConsoleRig.withMemoryPorts(packed, "");
        LinuxDriver guest = new LinuxDriver(rig).probe();
        MemoryBackend console = rig.memoryBackend(0);

        guest.write(0, "Linux version 6.1\n");
        guest.write(0, "login: ");
        assertThat(console.outputText()).isEqualTo("Linux version 6.1\nlogin: ");
        console.send("root\n");
        assertThat(guest.readText(0)).isEqualTo("root\n");
        assertThat(console.pending()).isZero();
        assertThat(rig.device.count(ConsoleCounter.TX_BYTES)).isEqualTo(25);
        assertThat(rig.device.count(ConsoleCounter.RX_BYTES)).isEqualTo(5);
        assertThat(rig.malformed()).isEmpty();
        rig.assertHealthy();
    }

    @Test
    void aNamedPortTakesInputOnlyWhileAProgramHasItOpen() throws Exception {
        ConsoleRig rig = ConsoleRig.withMemoryPorts(false, "", "org.qemu.guest_agent.0");
        LinuxDriver guest = new LinuxDriver(rig).probe();
        MemoryBackend agent = rig.memoryBackend(1);

        // Linux throws away input on a port nobody opened: the device keeps it for later
        String ping = "{\"execute\":\"guest-ping\"}\n";
        agent.send(ping);
        assertThat(guest.read(1)).isEmpty();
        assertThat(agent.pending()).isEqualTo(ping.length());

        guest.open(1);
        assertThat(guest.readText(1)).isEqualTo(ping);
        assertThat(agent.pending()).isZero();
        guest.write(1, "{\"return\":{}}\n");
        assertThat(agent.outputText()).isEqualTo("{\"return\":{}}\n");

        guest.close(1);
        agent.send("late");
        assertThat(guest.read(1)).isEmpty();
        assertThat(agent.pending()).isEqualTo(4);
        // nothing from the named port reached the console and the other way round
        assertThat(rig.memoryBackend(0).output()).isEmpty();
        assertThat(rig.malformed()).isEmpty();
        rig.assertHealthy();
    }

    @Test
    void hostConnectionChangesReachTheGuestAsPortOpen() throws Exception {
        MemoryBackend console = new MemoryBackend(false);
        MemoryBackend named = new MemoryBackend(false);
        ConsoleRig rig = new ConsoleRig(List.of(console, named), ConsoleRig.options().names("", "n").build(), false, 0);
        LinuxDriver guest = new LinuxDriver(rig).probe();
        assertThat(guest.eventsFor(1)).containsExactly(PORT_ADD, PORT_NAME);
        assertThat(guest.hostConnected).doesNotContainKey(1);

        named.setConnected(true);
        guest.processControl();
        assertThat(guest.hostConnected).containsEntry(1, true);
        named.setConnected(false);
        guest.processControl();
        assertThat(guest.hostConnected).containsEntry(1, false);
        assertThat(guest.eventsFor(1)).containsExactly(PORT_ADD, PORT_NAME, PORT_OPEN, PORT_OPEN);
        rig.assertHealthy();
    }

    @Test
    void aPortCanBeUnpluggedAndPluggedAgain() throws Exception {
        ConsoleRig rig = ConsoleRig.withMemoryPorts(false, "", "hot");
        LinuxDriver guest = new LinuxDriver(rig, 2, 64).probe();
        guest.open(1);
        assertThat(rig.device.removePort(1)).isTrue();
        guest.processControl();
        assertThat(guest.ports).containsExactly(0);
        assertThat(rig.device.isPortOpen(1)).isFalse();
        assertThat(rig.device.removePort(1)).isFalse();

        // Linux keeps the port's receive buffers across an unplug; the device adds it again
        assertThat(rig.device.addPort(1)).isTrue();
        guest.processControl();
        assertThat(guest.ports).containsExactly(0, 1);
        assertThat(guest.eventsFor(1)).containsSubsequence(PORT_REMOVE, PORT_ADD, PORT_NAME);
        rig.assertHealthy();
    }

    @Test
    void aRebootedGuestGetsThePortsAgainAndTheInputSentMeanwhile() throws Exception {
        ConsoleRig rig = ConsoleRig.withMemoryPorts(false, "", "org.jvirtio.agent");
        LinuxDriver guest = new LinuxDriver(rig).probe();
        guest.open(1);
        guest.write(0, "first boot\n");
        rig.device.reset();
        assertThat(rig.device.isPortReady(1)).isFalse();
        rig.memoryBackend(0).send("typed during the reboot");
        rig.memoryBackend(1).send("queued for the agent");

        ConsoleRig rebooted = rig.reboot(true);
        LinuxDriver again = new LinuxDriver(rebooted).probe();
        assertThat(again.ports).containsExactly(0, 1);
        assertThat(again.names).containsEntry(1, "org.jvirtio.agent");
        assertThat(again.eventsFor(0)).containsExactly(PORT_ADD, CONSOLE_PORT, RESIZE, PORT_OPEN);
        assertThat(again.readText(0)).isEqualTo("typed during the reboot");
        assertThat(again.read(1)).as("the agent's port is not open yet in the new boot").isEmpty();
        again.open(1);
        assertThat(again.readText(1)).isEqualTo("queued for the agent");
        again.write(0, "second boot\n");
        assertThat(rig.memoryBackend(0).outputText()).isEqualTo("first boot\nsecond boot\n");
        assertThat(rebooted.malformed()).isEmpty();
        rebooted.assertHealthy();
    }
}
