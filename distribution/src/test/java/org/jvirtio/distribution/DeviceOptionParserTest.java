package org.jvirtio.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The plain launcher's command line: its own syntax ({@code --device}, {@code --device=}, {@code --help}),
 * the platform's checked keys read into {@link BlkDeviceSpec} and {@link NetDeviceSpec}, and the QEMU
 * options printed for them. Every way a key can be wrong is the platform's InstancePlanTest and
 * DeviceSpecsTest; here, that such an error reaches the launcher as one usage line.
 */
class DeviceOptionParserTest {

    private static List<DeviceSpec> args(String... args) throws UsageException {
        return DeviceOptionParser.parseArguments(List.of(args));
    }

    private static DeviceSpec one(String spec) throws UsageException {
        return args("--device", spec).get(0);
    }

    @Test
    void blkTakesTheDefaults() throws UsageException {
        assertThat(one("blk,socket=/tmp/b.sock,path=/tmp/disk.img")).isEqualTo(new BlkDeviceSpec("blk0",
                Path.of("/tmp/b.sock"), BlkDeviceSpec.Backend.FILE, Path.of("/tmp/disk.img"), 0, false, 1));
    }

    @Test
    void everyBlkKey() throws UsageException {
        assertThat(one("blk,id=disk-1.a_b,socket=s.sock,backend=file,path=img,size=1G,readonly=on,queues=4,packed=off,"
                + "transport=vhost-user")).isEqualTo(new BlkDeviceSpec("disk-1.a_b", Path.of("s.sock"),
                        BlkDeviceSpec.Backend.FILE, Path.of("img"), 1L << 30, true, 4, false, false, 1));
        assertThat(one("blk,socket=s,backend=memory,size=64M")).isEqualTo(new BlkDeviceSpec("blk0", Path.of("s"),
                BlkDeviceSpec.Backend.MEMORY, null, 64L << 20, false, 1));
        assertThat(one("blk,socket=s,size=64M")).as("without path= a memory disk")
                .isEqualTo(new BlkDeviceSpec("blk0", Path.of("s"), BlkDeviceSpec.Backend.MEMORY, null, 64L << 20,
                        false, 1));
        assertThat(one("blk,socket=s,backend=null,size=1T,readonly=on")).isEqualTo(new BlkDeviceSpec("blk0",
                Path.of("s"), BlkDeviceSpec.Backend.NULL, null, 1L << 40, true, 1));
        assertThat(one("blk,socket=/run/qemu.sock,backend=null,size=1M,client=on,reconnect=5")).isEqualTo(
                new BlkDeviceSpec("blk0", Path.of("/run/qemu.sock"), BlkDeviceSpec.Backend.NULL, null, 1L << 20,
                        false, 1, true, true, 5));
    }

    @Test
    void everyNetKey() throws UsageException {
        NetDeviceSpec minimal = (NetDeviceSpec) one("net,socket=/tmp/n.sock");
        assertThat(minimal).isEqualTo(new NetDeviceSpec("net0", Path.of("/tmp/n.sock"), NetDeviceSpec.Backend.SWITCH,
                "default", null, minimal.mac(), 1500, 1, true, true, false, 1));
        assertThat(minimal.mac()).matches("52:54:00(:[0-9a-f]{2}){3}");
        assertThat(one("net,id=lan-a.1,socket=s,backend=switch,switch=lan0,mac=52:54:00:AB:cd:01,mtu=9000,queues=4,"
                + "packed=off,mrg_rxbuf=off,client=on,reconnect=7")).isEqualTo(new NetDeviceSpec("lan-a.1",
                        Path.of("s"), NetDeviceSpec.Backend.SWITCH, "lan0", null, "52:54:00:ab:cd:01", 9000, 4, false,
                        false, true, 7));
        assertThat(one("net,socket=s,backend=sink,mac=02:00:00:00:00:01")).isEqualTo(new NetDeviceSpec("net0",
                Path.of("s"), NetDeviceSpec.Backend.SINK, null, null, "02:00:00:00:00:01", 1500, 1, true, true, false,
                1));
        assertThat(one("net,socket=s,backend=tap,ifname=jv-tap0.x,mac=02:00:00:00:00:02")).isEqualTo(
                new NetDeviceSpec("net0", Path.of("s"), NetDeviceSpec.Backend.TAP, null, "jv-tap0.x",
                        "02:00:00:00:00:02", 1500, 1, true, true, false, 1));
    }

    @Test
    void devicesWithoutIdAreNamedByPosition() throws UsageException {
        List<DeviceSpec> devices = args("--device", "blk,socket=a,path=x", "--device=net,socket=b",
                "--device", "blk,id=third,socket=c,path=y,queues=2");
        assertThat(devices).extracting(DeviceSpec::id).containsExactly("blk0", "net1", "third");
    }

    @Test
    void qemuOptions() throws UsageException {
        assertThat(Launcher.qemuOptions(args("--device", "blk,socket=a,path=x,client=on,reconnect=3", "--device",
                "blk,socket=/tmp/b,,c,path=y,queues=2", "--device",
                "net,socket=n,mac=52:54:00:00:00:0b,queues=2,mrg_rxbuf=off,mtu=9000", "--device",
                "net,socket=m,mac=52:54:00:00:00:0c,packed=off")))
                .isEqualTo("-object memory-backend-memfd,id=mem,size=1G,share=on -numa node,memdev=mem"
                        + " -chardev socket,id=c0,path=a,server=on,wait=off"
                        + " -device vhost-user-blk-pci,chardev=c0,num-queues=1"
                        + " -chardev socket,id=c1,path=/tmp/b,,c -device vhost-user-blk-pci,chardev=c1,num-queues=2"
                        + " -chardev socket,id=c2,path=n -netdev vhost-user,id=n2,chardev=c2,queues=2"
                        + " -device virtio-net-pci,netdev=n2,mac=52:54:00:00:00:0b,mq=on,vectors=6,packed=on,"
                        + "mrg_rxbuf=off,host_mtu=9000"
                        + " -chardev socket,id=c3,path=m -netdev vhost-user,id=n3,chardev=c3"
                        + " -device virtio-net-pci,netdev=n3,mac=52:54:00:00:00:0c");
    }

    @Test
    void helpGivesNoDevicesAndTheKeys() throws UsageException {
        assertThat(args("--help")).isEmpty();
        assertThat(args("--device", "blk,socket=a,path=x", "-h")).isEmpty();
        assertThat(DeviceOptionParser.usage()).contains("jvirtio-launcher.jar", "  socket=", "  path=", "  mrg_rxbuf=");
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "\"\"                                                          | no --device given",
        "--device                                                    | --device needs a value",
        "--verbose                                                   | unknown argument '--verbose'",
        "blk,socket=s,path=i                                         | unknown argument 'blk,socket=s,path=i'",
        "--device tape,socket=s                                      | --device tape,socket=s: unknown device type 'tape'",
        "--device blk,socket=s,path=i,colour=red                     | device blk0: colour: unknown key(s)",
        "--device net,socket=s,mtu=65518                             | device net0: mtu: '65518' is not a whole number from 68 to 65517",
        "--device blk,socket=s,path=i,reconnect=2                    | device blk0: reconnect: only with client=on",
        "--device blk,socket=s,path=i,drain_ms=100                   | device blk0: drain_ms: only the container",
        "--device blk,socket=a,path=x --device blk,id=blk0,socket=b,path=y | two devices have id=blk0",
        "--device blk,socket=a,path=x --device net,socket=./a        | device net1: socket: two devices listen on socket=./a",
        "--device net,socket=a,mac=52:54:00:00:00:01 --device net,socket=b,mac=52:54:00:00:00:01 | two devices have mac=52:54:00:00:00:01",
        "--device blk,transport=pci,qmp=q,slot=5,size=1M             | device blk0: transport: only the container (jvirtio.jar) attaches devices over transport=pci",
        "--device console,transport=pci,qmp=q,slot=5,path=c          | device console0: transport: only the container",
        "--device balloon,transport=pci,qmp=q,slot=6                 | device balloon0: transport: only the container",
        "--device blk,transport=mmio,qmp=q,slot=5,size=1M            | device blk0: transport: only the container (jvirtio.jar) attaches devices over transport=pci or transport=mmio",
    })
    void badCommandLineIsOneUsageLine(String line, String message) {
        List<String> argv = line.isBlank() ? List.of() : List.of(line.trim().split(" "));
        assertThatThrownBy(() -> DeviceOptionParser.parseArguments(argv)).isInstanceOf(UsageException.class)
                .hasMessageContaining(message.trim())
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }
}
