package org.jvirtio.distribution.container;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.jvirtio.distribution.UsageException;
import org.jvirtio.transport.mmio.acpi.MmioSsdt;

/** {@code --mmio-ssdt FILE}: the table of the transport=mmio devices given, its usage errors, and the QEMU advice. */
class MmioSsdtOptionTest {
    @TempDir
    Path dir;

    private static ContainerOptions parse(String... args) throws UsageException {
        return ContainerOptions.parse(Arrays.asList(args));
    }

    @Test
    void writesOneSlotPerSlotWithItsWindowsAndLeavesOutOtherDevices() throws Exception {
        Path file = dir.resolve("jvirtio.aml");
        ContainerOptions options = parse("--mmio-ssdt", file.toString(),
                "--device", "blk,transport=mmio,qmp=/run/q.qmp,slot=5,size=1M",
                "--device", "net,transport=pci,qmp=/run/q.qmp,slot=6",
                "--device", "console,transport=mmio,qmp=/run/q.qmp,slot=5,path=/run/c.sock",
                "--device", "balloon,transport=mmio,qmp=/run/q.qmp,slot=9",
                "--device", "net,socket=/run/n.sock");
        assertThat(options.mmioSsdt()).isEqualTo(file);
        String said = MmioSsdtFile.write(options.mmioSsdt(), options.devices());
        byte[] written = Files.readAllBytes(file);
        assertThat(written).isEqualTo(MmioSsdt.builder().slot(5, 2).slot(9, 1).build());
        assertThat(new String(written, 0, 4, StandardCharsets.US_ASCII)).isEqualTo("SSDT");
        assertThat(said).contains("slot 5: window 0 blk blk0 window 1 console console2", "slot 9: window 0 balloon balloon3",
                "-acpitable file=" + file.toAbsolutePath());
        assertThat(Files.list(dir)).containsExactly(file); // no temporary file left behind
    }

    @Test
    void aWindowGivenExplicitlyDecidesTheOrderNotTheCommandLine() throws Exception {
        ContainerOptions options = parse("--mmio-ssdt=" + dir.resolve("t"),
                "--device", "blk,id=b,transport=mmio,qmp=q,slot=3,window=1,size=1M",
                "--device", "console,id=c,transport=mmio,qmp=q,slot=3,window=0,path=c");
        assertThat(MmioSsdtFile.write(options.mmioSsdt(), options.devices()))
                .contains("slot 3: window 0 console c window 1 blk b");
    }

    @Test
    void usageErrors() {
        assertThatThrownBy(() -> parse("--mmio-ssdt")).isInstanceOf(UsageException.class)
                .hasMessage("--mmio-ssdt needs a value");
        assertThatThrownBy(() -> parse("--mmio-ssdt=", "--device", "blk,transport=mmio,qmp=q,slot=3,size=1M"))
                .isInstanceOf(UsageException.class).hasMessage("--mmio-ssdt needs a file name");
        assertThatThrownBy(() -> parse("--mmio-ssdt", "t", "--device", "blk,transport=pci,qmp=q,slot=3,size=1M"))
                .isInstanceOf(UsageException.class).hasMessageContaining("no --device has transport=mmio");
        assertThatThrownBy(() -> parse("--mmio-ssdt", "t")).isInstanceOf(UsageException.class)
                .hasMessageContaining("no --device has transport=mmio");
        assertThatThrownBy(() -> parse("--mmio-ssdt", "t",
                "--device", "blk,transport=mmio,qmp=/run/a.qmp,slot=3,size=1M",
                "--device", "blk,transport=mmio,qmp=/run/b.qmp,slot=3,size=1M"))
                .isInstanceOf(UsageException.class).hasMessageContaining("name 2 QMP sockets");
        assertThatThrownBy(() -> parse("--mmio-ssdt", "t",
                "--device", "blk,transport=mmio,qmp=q,slot=3,size=1M",
                "--device", "blk,transport=mmio,qmp=q,slot=3,window=0,size=1M"))
                .isInstanceOf(UsageException.class).hasMessageContaining("window: window=0 of slot=3");
    }

    @Test
    void withoutTheOptionNothingIsWrittenAndQemuIsToldToLoadTheTable() throws Exception {
        ContainerOptions options = parse(
                "--device", "blk,id=b0,transport=mmio,qmp=/run/q.qmp,qtest=/run/q.qtest,slot=5,size=1M",
                "--device", "console,id=c0,transport=mmio,qmp=/run/q.qmp,qtest=/run/q.qtest,slot=5,path=/run/c.sock",
                "--device", "net,id=n0,transport=pci,qmp=/run/q.qmp,qtest=/run/q.qtest,slot=6");
        assertThat(options.mmioSsdt()).isNull();
        List<String> qemus = QemuCommandLine.qemus(options.devices());
        assertThat(qemus).singleElement().asString()
                .contains("-S -qmp unix:/run/q.qmp,server=on,wait=off", "-acpitable file=SSDT",
                        "blk b0 at slot 5 (mmio window 0) console c0 at slot 5 (mmio window 1) net n0 at slot 6 and",
                        "--mmio-ssdt SSDT");
        assertThat(QemuCommandLine.qemus(parse("--device", "net,id=n0,transport=pci,qmp=q,slot=6").devices()))
                .singleElement().asString().doesNotContain("acpitable");
    }
}
