package org.jvirtio.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.jvirtio.distribution.NetDeviceSpec.Backend;

/** {@code --device net,...}: every key parsed and rejected, and the QEMU options printed for it. */
class DeviceOptionParserNetTest {

    private static NetDeviceSpec one(String spec) throws UsageException {
        return (NetDeviceSpec) DeviceOptionParser.parseDevice(spec, 0);
    }

    private static List<DeviceSpec> args(String... args) throws UsageException {
        return DeviceOptionParser.parseArguments(List.of(args));
    }

    @Test
    void minimalNetDeviceTakesTheDefaults() throws UsageException {
        assertThat(one("net,socket=/tmp/n.sock")).isEqualTo(new NetDeviceSpec("net0", Path.of("/tmp/n.sock"),
                Backend.SWITCH, "default", null, "52:54:00:12:34:56", 1500, 1, true, true, false, 1));
    }

    @Test
    void everyKey() throws UsageException {
        assertThat(one("net,id=lan-a.1,socket=s,backend=switch,switch=lan0,mac=52:54:00:AB:cd:01,mtu=9000,queues=4,"
                + "packed=off,mrg_rxbuf=off")).isEqualTo(new NetDeviceSpec("lan-a.1", Path.of("s"), Backend.SWITCH,
                        "lan0", null, "52:54:00:ab:cd:01", 9000, 4, false, false, false, 1));
        assertThat(one("net,socket=s,backend=sink")).isEqualTo(new NetDeviceSpec("net0", Path.of("s"), Backend.SINK,
                null, null, "52:54:00:12:34:56", 1500, 1, true, true, false, 1));
        assertThat(one("net,socket=s,backend=tap,ifname=jv-tap0.x")).isEqualTo(new NetDeviceSpec("net0",
                Path.of("s"), Backend.TAP, null, "jv-tap0.x", "52:54:00:12:34:56", 1500, 1, true, true, false, 1));
        assertThat(one("net,socket=s,packed=on,mrg_rxbuf=on")).extracting(NetDeviceSpec::packed,
                NetDeviceSpec::mergeable).containsExactly(true, true);
        assertThat(one("net,socket=s,mtu=68").mtu()).isEqualTo(68);
        assertThat(one("net,socket=s,mtu=65517").mtu()).isEqualTo(65517);
        assertThat(one("net,socket=s,queues=511").queuePairs()).isEqualTo(DeviceOptionParser.MAX_QUEUE_PAIRS);
        assertThat(one("net,socket=s,mac=02:00:00:00:00:01").mac()).isEqualTo("02:00:00:00:00:01");
    }

    @Test
    void clientModeKeys() throws UsageException {
        NetDeviceSpec d = one("net,socket=/run/qemu-net.sock,client=on,reconnect=7");
        assertThat(d.client()).isTrue();
        assertThat(d.reconnectSeconds()).isEqualTo(7);
        assertThat(one("net,socket=s,client=on").reconnectSeconds()).isEqualTo(DeviceSpec.DEFAULT_RECONNECT_SECONDS);
        assertThat(one("net,socket=s,client=off").client()).isFalse();
    }

    /** QEMU's default addresses: 52:54:00:12:34:56 plus the device's position on the command line. */
    @Test
    void defaultIdsAndAddressesFollowThePosition() throws UsageException {
        List<DeviceSpec> devices = args("--device", "blk,socket=a,path=x", "--device", "net,socket=b",
                "--device", "net,socket=c,mac=52:54:00:12:34:56");
        assertThat(devices).extracting(DeviceSpec::id).containsExactly("blk0", "net1", "net2");
        assertThat(((NetDeviceSpec) devices.get(1)).mac()).isEqualTo("52:54:00:12:34:57");
    }

    @Test
    void qemuOptionsForNetDevices() throws UsageException {
        assertThat(Launcher.qemuOptions(args("--device", "net,socket=/tmp/n0.sock,switch=lan0,packed=off")))
                .isEqualTo("-object memory-backend-memfd,id=mem,size=1G,share=on -numa node,memdev=mem"
                        + " -chardev socket,id=c0,path=/tmp/n0.sock"
                        + " -netdev vhost-user,id=n0,chardev=c0"
                        + " -device virtio-net-pci,netdev=n0,mac=52:54:00:12:34:56");
        assertThat(Launcher.qemuOptions(args("--device", "blk,socket=a,path=x", "--device",
                "net,socket=b,mac=52:54:00:00:00:0b,queues=2,mrg_rxbuf=off,mtu=9000,client=on")))
                .isEqualTo("-object memory-backend-memfd,id=mem,size=1G,share=on -numa node,memdev=mem"
                        + " -chardev socket,id=c0,path=a -device vhost-user-blk-pci,chardev=c0,num-queues=1"
                        + " -chardev socket,id=c1,path=b,server=on,wait=off"
                        + " -netdev vhost-user,id=n1,chardev=c1,queues=2"
                        + " -device virtio-net-pci,netdev=n1,mac=52:54:00:00:00:0b,mq=on,vectors=6,packed=on,"
                        + "mrg_rxbuf=off,host_mtu=9000");
    }

    @Test
    void usageListsEveryNetKey() {
        assertThat(DeviceOptionParser.usage()).contains(DeviceOptionParser.NET_KEYS.stream()
                .map(k -> "  " + k + "=").toList());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "net,socket=s,colour=red                   | --device net: unknown key 'colour' (keys: id, socket, backend, switch, ifname, mac, mtu, queues, packed, mrg_rxbuf, client, reconnect)",
        "net,socket=s,path=i                       | --device net: unknown key 'path'",
        "net,socket=s,packed                       | --device net: 'packed' is not key=value",
        "net,socket=s,mac=52:54:00:00:00:01,mac=52:54:00:00:00:02 | --device net: key 'mac' given twice",
        "net,id=1net,socket=s                      | --device net: bad id '1net'",
        "net,switch=lan0                           | --device net id=net0: socket=PATH is required",
        "net,socket=                               | --device net id=net0: socket=PATH is required",
        "net,socket=s,backend=bridge               | --device net id=net0: bad backend 'bridge' (switch, sink or tap)",
        "net,socket=s,backend=                     | --device net id=net0: bad backend '' (switch, sink or tap)",
        "net,socket=s,switch=                      | --device net id=net0: bad switch name ''",
        "net,socket=s,switch=lan/0                 | --device net id=net0: bad switch name 'lan/0'",
        "net,socket=s,backend=sink,switch=lan0     | --device net id=net0: switch= is only for backend=switch, not backend=sink",
        "net,socket=s,backend=tap,switch=lan0,ifname=t0 | --device net id=net0: switch= is only for backend=switch, not backend=tap",
        "net,socket=s,backend=tap                  | --device net id=net0: backend=tap needs ifname=NAME",
        "net,socket=s,backend=tap,ifname=          | --device net id=net0: backend=tap needs ifname=NAME",
        "net,socket=s,backend=tap,ifname=a-very-long-name | --device net id=net0: bad ifname 'a-very-long-name' (1 to 15 letters",
        "net,socket=s,backend=tap,ifname=tap/0     | --device net id=net0: bad ifname 'tap/0'",
        "net,socket=s,backend=tap,ifname=tap 0     | --device net id=net0: bad ifname 'tap 0'",
        "net,socket=s,backend=tap,ifname=..        | --device net id=net0: bad ifname '..'",
        "net,socket=s,ifname=tap0                  | --device net id=net0: ifname= is only for backend=tap, not backend=switch",
        "net,socket=s,backend=sink,ifname=tap0     | --device net id=net0: ifname= is only for backend=tap, not backend=sink",
        "net,socket=s,mac=52:54:00:12:34           | --device net id=net0: bad mac '52:54:00:12:34' (six hex bytes, e.g. 52:54:00:12:34:56)",
        "net,socket=s,mac=52-54-00-12-34-56        | --device net id=net0: bad mac '52-54-00-12-34-56'",
        "net,socket=s,mac=52:54:00:12:34:5g        | --device net id=net0: bad mac '52:54:00:12:34:5g'",
        "net,socket=s,mac=525400123456             | --device net id=net0: bad mac '525400123456'",
        "net,socket=s,mac=                         | --device net id=net0: bad mac ''",
        "net,socket=s,mac=01:00:5e:00:00:01        | --device net id=net0: mac=01:00:5e:00:00:01 is a multicast address",
        "net,socket=s,mac=ff:ff:ff:ff:ff:ff        | --device net id=net0: mac=ff:ff:ff:ff:ff:ff is a multicast address",
        "net,socket=s,mac=00:00:00:00:00:00        | --device net id=net0: mac=00:00:00:00:00:00 is not an address",
        "net,socket=s,mtu=67                       | --device net id=net0: mtu=67 must be a number from 68 to 65517",
        "net,socket=s,mtu=65518                    | --device net id=net0: mtu=65518 must be a number from 68 to 65517",
        "net,socket=s,mtu=1.5k                     | --device net id=net0: mtu=1.5k must be a number from 68 to 65517",
        "net,socket=s,mtu=                         | --device net id=net0: mtu= must be a number from 68 to 65517",
        "net,socket=s,queues=0                     | --device net id=net0: queues=0 must be a number from 1 to 511",
        "net,socket=s,queues=512                   | --device net id=net0: queues=512 must be a number from 1 to 511",
        "net,socket=s,queues=two                   | --device net id=net0: queues=two must be a number from 1 to 511",
        "net,socket=s,packed=yes                   | --device net id=net0: packed=yes must be on or off",
        "net,socket=s,mrg_rxbuf=1                  | --device net id=net0: mrg_rxbuf=1 must be on or off",
        "net,socket=s,client=true                  | --device net id=net0: client=true must be on or off",
        "net,socket=s,reconnect=2                  | --device net id=net0: reconnect= is only for client=on",
        "net,socket=s,client=on,reconnect=0        | --device net id=net0: reconnect=0 must be whole seconds from 1 to 3600",
        "net,socket=s,client=on,reconnect=3601     | --device net id=net0: reconnect=3601 must be whole seconds from 1 to 3600",
    })
    void badNetDeviceIsOneClearLine(String spec, String message) {
        assertThatThrownBy(() -> one(spec)).isInstanceOf(UsageException.class)
                .hasMessageContaining(message.trim())
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n").startsWith("--device net"));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', value = {
        "--device net,socket=a --device net,id=net0,socket=b                     | two devices have id=net0",
        "--device net,socket=a --device blk,socket=./a,path=x                    | two devices listen on socket=./a",
        "--device net,socket=a,mac=52:54:00:00:00:01 --device net,socket=b,mac=52:54:00:00:00:01 | two devices have mac=52:54:00:00:00:01",
        "--device net,socket=a,mac=52:54:00:12:34:57 --device net,socket=b        | two devices have mac=52:54:00:12:34:57",
    })
    void badNetCommandLine(String line, String message) {
        assertThatThrownBy(() -> DeviceOptionParser.parseArguments(List.of(line.trim().split(" "))))
                .isInstanceOf(UsageException.class).hasMessageContaining(message.trim());
    }
}
