package org.jvirtio.device.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.annotation.Annotation;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.AbstractMap.SimpleEntry;
import java.util.List;
import java.util.Map;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.device.console.backend.ConsoleBackend;
import org.jvirtio.device.console.backend.logfile.LogFileBackend;
import org.jvirtio.device.console.backend.memory.MemoryBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The log-file backend, and the DS constructors building the same things as the Java ones. */
class BackendAndComponentConfigTest {
    @TempDir
    Path dir;

    private static ConsoleDevice.Config config(int ports, String[] names, int maxPorts, int consolePort) {
        return new ConsoleDevice.Config() {
            public Class<? extends Annotation> annotationType() { return ConsoleDevice.Config.class; }
            public String backends_target() { return "(device=con0)"; }
            public int backends_cardinality_minimum() { return ports; }
            public int ports() { return ports; }
            public String[] names() { return names; }
            public int maxPorts() { return maxPorts; }
            public int consolePort() { return consolePort; }
            public boolean size() { return true; }
            public int cols() { return 100; }
            public int rows() { return 40; }
            public boolean multiport() { return true; }
            public boolean emergWrite() { return false; }
            public int queueSize() { return 64; }
            public boolean packed() { return false; }
        };
    }

    private static Map.Entry<Map<String, Object>, ConsoleBackend> backend(Object port, ConsoleBackend b) {
        return new SimpleEntry<>(port == null ? Map.of() : Map.of(ConsoleBackend.PORT_PROPERTY, port), b);
    }

    @Test
    void theLogFileAppendsGuestOutputAndKeepsWhatWasThere() throws Exception {
        Path log = dir.resolve("guest.log");
        Files.writeString(log, "earlier boot\n");
        try (LogFileBackend file = new LogFileBackend(log)) {
            ConsoleRig rig = new ConsoleRig(List.of(file), ConsoleRig.options().build(), false, 0);
            LinuxDriver guest = new LinuxDriver(rig).probe();
            assertThat(guest.hostConnected).as("a log always listens").containsEntry(0, true);
            guest.write(0, "this boot\n");
            rig.device.writeConfig(8, new byte[] {'!', 0, 0, 0}, 0, 4);
            assertThat(Files.readString(log)).isEqualTo("earlier boot\nthis boot\n!");
            assertThat(file.bytes()).isEqualTo(11);
            assertThatThrownBy(() -> file.attach(new MemoryBackendInput()))
                    .isInstanceOf(IllegalStateException.class);
            rig.device.close();
            // detached: another device may take it
            file.attach(new MemoryBackendInput()).close();
        }
    }

    @Test
    void deviceFromConfigMapsBackendsByTheirPortProperty() {
        MemoryBackend zero = new MemoryBackend();
        MemoryBackend one = new MemoryBackend();
        MemoryBackend two = new MemoryBackend();
        ConsoleDevice device = new ConsoleDevice(List.of(backend("2", two), backend(null, zero), backend(1, one)),
                config(3, new String[] {"", "org.one"}, 6, 0));
        assertThat(device.options().names()).containsExactly("", "org.one", "");
        assertThat(device.options().maxPorts()).isEqualTo(6);
        assertThat(device.queueCount()).isEqualTo(14);
        assertThat(device.queueMaxSize(13)).isEqualTo(64);
        assertThat(VirtioFeature.has(device.offeredFeatures(), ConsoleFeatures.EMERG_WRITE)).isFalse();
        assertThat(VirtioFeature.has(device.offeredFeatures(), VirtioFeature.RING_PACKED)).isFalse();
        byte[] size = new byte[4];
        device.readConfig(0, size, 0, 4);
        assertThat(size).containsExactly(100, 0, 40, 0);
        device.close();
        // closed: each backend can be attached again
        zero.attach(new MemoryBackendInput()).close();
        two.attach(new MemoryBackendInput()).close();
    }

    @Test
    void everyPortNeedsExactlyOneBackend() {
        assertThatThrownBy(() -> ConsoleDevice.byPort(List.of(backend(0, new MemoryBackend())), 2))
                .hasMessageContaining("no console backend serves port 1");
        assertThatThrownBy(() -> ConsoleDevice.byPort(
                List.of(backend(0, new MemoryBackend()), backend("0", new MemoryBackend())), 2))
                .hasMessageContaining("two console backends serve port 0");
        assertThatThrownBy(() -> ConsoleDevice.byPort(List.of(backend(5, new MemoryBackend())), 2))
                .hasMessageContaining("serves port 5");
        assertThatThrownBy(() -> ConsoleDevice.byPort(List.of(backend("x", new MemoryBackend())), 1))
                .hasMessageContaining("serves port -1");
    }

    @Test
    void optionsThatCannotWorkAreRefused() {
        assertThatThrownBy(() -> ConsoleRig.options().names("", "b").multiport(false).build())
                .hasMessageContaining("MULTIPORT");
        assertThatThrownBy(() -> ConsoleRig.options().names("", "b").maxPorts(1).build())
                .hasMessageContaining("maxPorts");
        assertThatThrownBy(() -> ConsoleRig.options().consolePort(1).build()).hasMessageContaining("consolePort");
        assertThatThrownBy(() -> ConsoleRig.options().names("x".repeat(256)).build()).hasMessageContaining("255");
        assertThatThrownBy(() -> ConsoleRig.options().cols(70_000).build()).hasMessageContaining("cols");
        assertThatThrownBy(() -> ConsoleRig.options().maxPorts(32767).build()).hasMessageContaining("16 bits");
        assertThat(ConsoleRig.options().maxPorts(32766).build().maxPorts()).isEqualTo(32766);
        assertThat(ConsoleRig.options().consolePort(-1).build().consolePort()).isEqualTo(-1);
    }

    @Test
    void aBackendServesOnePortAtATime() {
        MemoryBackend b = new MemoryBackend();
        ConsoleDevice first = new ConsoleDevice(List.of(b), ConsoleRig.options().build());
        assertThatThrownBy(() -> new ConsoleDevice(List.of(b), ConsoleRig.options().build()))
                .isInstanceOf(IllegalStateException.class);
        first.close();
        new ConsoleDevice(List.of(b), ConsoleRig.options().build()).close();
    }

    @Test
    void withoutAConsolePortNoPortBecomesHvc() throws Exception {
        ConsoleRig rig = new ConsoleRig(List.of(new MemoryBackend(), new MemoryBackend()),
                ConsoleRig.options().names("a", "b").consolePort(-1).build(), false, 0);
        LinuxDriver guest = new LinuxDriver(rig).probe();
        assertThat(guest.consolePort).isEqualTo(-1);
        assertThat(guest.names).containsEntry(0, "a").containsEntry(1, "b");
        guest.open(0);
        rig.memoryBackend(0).send("to a".getBytes(StandardCharsets.UTF_8));
        assertThat(guest.readText(0)).isEqualTo("to a");
        rig.assertHealthy();
    }

    /** A device-side input that takes nothing, to attach a backend outside a device. */
    private static final class MemoryBackendInput implements org.jvirtio.device.console.backend.ConsoleInput {
        @Override
        public int offer(java.nio.ByteBuffer input) {
            return 0;
        }

        @Override
        public void hostConnected(boolean connected) {
        }
    }
}
