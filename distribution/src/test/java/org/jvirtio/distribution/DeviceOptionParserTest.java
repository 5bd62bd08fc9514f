package org.jvirtio.distribution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;

import org.jvirtio.distribution.BlkDeviceSpec.Backend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DeviceOptionParserTest {

    private static BlkDeviceSpec one(String spec) throws UsageException {
        return (BlkDeviceSpec) DeviceOptionParser.parseDevice(spec, 0);
    }

    private static List<DeviceSpec> args(String... args) throws UsageException {
        return DeviceOptionParser.parseArguments(List.of(args));
    }

    @Test
    void minimalFileDeviceTakesTheDefaults() throws UsageException {
        BlkDeviceSpec d = one("blk,socket=/tmp/b.sock,path=/tmp/disk.img");
        assertThat(d).isEqualTo(new BlkDeviceSpec("blk0", Path.of("/tmp/b.sock"), Backend.FILE,
                Path.of("/tmp/disk.img"), 0, false, 1));
    }

    @Test
    void everyKey() throws UsageException {
        BlkDeviceSpec d = one("blk,id=disk-1.a_b,socket=s.sock,backend=file,path=img,size=1G,readonly=on,queues=4");
        assertThat(d).isEqualTo(new BlkDeviceSpec("disk-1.a_b", Path.of("s.sock"), Backend.FILE, Path.of("img"),
                1L << 30, true, 4));
        assertThat(one("blk,socket=s,path=i,readonly=off").readOnly()).isFalse();
        assertThat(one("blk,socket=s,backend=memory,size=64M")).isEqualTo(new BlkDeviceSpec("blk0", Path.of("s"),
                Backend.MEMORY, null, 64L << 20, false, 1));
        assertThat(one("blk,socket=s,backend=null,size=1T,readonly=on")).isEqualTo(new BlkDeviceSpec("blk0",
                Path.of("s"), Backend.NULL, null, 1L << 40, true, 1));
        assertThat(one("blk,socket=s,path=i,queues=" + DeviceOptionParser.MAX_QUEUES).queues())
                .isEqualTo(DeviceOptionParser.MAX_QUEUES);
    }

    @ParameterizedTest
    @CsvSource({"512,512", "4096,4096", "1k,1024", "2K,2048", "3m,3145728", "1g,1073741824", "1T,1099511627776",
            "8388607T,9223370937343148032"})
    void sizes(String text, long bytes) throws UsageException {
        assertThat(one("blk,socket=s,path=i,size=" + text).size()).isEqualTo(bytes);
    }

    @Test
    void clientModeKeys() throws UsageException {
        BlkDeviceSpec d = one("blk,socket=/run/qemu.sock,backend=null,size=1M,client=on");
        assertThat(d).isEqualTo(new BlkDeviceSpec("blk0", Path.of("/run/qemu.sock"), Backend.NULL, null, 1L << 20,
                false, 1, true, BlkDeviceSpec.DEFAULT_RECONNECT_SECONDS));
        assertThat(one("blk,socket=s,path=i,client=on,reconnect=5").reconnectSeconds()).isEqualTo(5);
        assertThat(one("blk,socket=s,path=i,client=on,reconnect=" + DeviceOptionParser.MAX_RECONNECT_SECONDS)
                .reconnectSeconds()).isEqualTo(DeviceOptionParser.MAX_RECONNECT_SECONDS);
        assertThat(one("blk,socket=s,path=i,client=off").client()).isFalse();
        assertThat(one("blk,socket=s,path=i").client()).isFalse();
    }

    @Test
    void clientModeChardevListens() throws UsageException {
        List<DeviceSpec> devices = args("--device", "blk,socket=a,path=x,client=on,reconnect=3", "--device",
                "blk,socket=b,path=y");
        assertThat(Launcher.qemuOptions(devices)).isEqualTo("-object memory-backend-memfd,id=mem,size=1G,share=on"
                + " -numa node,memdev=mem"
                + " -chardev socket,id=c0,path=a,server=on,wait=off -device vhost-user-blk-pci,chardev=c0,num-queues=1"
                + " -chardev socket,id=c1,path=b -device vhost-user-blk-pci,chardev=c1,num-queues=1");
    }

    @Test
    void commaInAValueIsDoubled() throws UsageException {
        BlkDeviceSpec d = one("blk,socket=/tmp/a,,b.sock,path=/img,,1");
        assertThat(d.socket()).isEqualTo(Path.of("/tmp/a,b.sock"));
        assertThat(d.path()).isEqualTo(Path.of("/img,1"));
        List<BlkDeviceSpec> specs = List.of(d);
        assertThat(Launcher.qemuOptions(specs)).contains("path=/tmp/a,,b.sock ");
    }

    @Test
    void severalDevicesGetTheirOwnDefaultIds() throws UsageException {
        List<DeviceSpec> devices = args("--device", "blk,socket=a,path=x", "--device=blk,socket=b,backend=null,size=1M",
                "--device", "blk,id=third,socket=c,path=y,queues=2");
        assertThat(devices).extracting(DeviceSpec::id).containsExactly("blk0", "blk1", "third");
        assertThat(Launcher.qemuOptions(devices)).isEqualTo("-object memory-backend-memfd,id=mem,size=1G,share=on"
                + " -numa node,memdev=mem"
                + " -chardev socket,id=c0,path=a -device vhost-user-blk-pci,chardev=c0,num-queues=1"
                + " -chardev socket,id=c1,path=b -device vhost-user-blk-pci,chardev=c1,num-queues=1"
                + " -chardev socket,id=c2,path=c -device vhost-user-blk-pci,chardev=c2,num-queues=2");
    }

    @Test
    void helpGivesNoDevices() throws UsageException {
        assertThat(args("--help")).isEmpty();
        assertThat(args("--device", "blk,socket=a,path=x", "-h")).isEmpty();
        assertThat(DeviceOptionParser.usage()).contains(DeviceOptionParser.BLK_KEYS.stream()
                .map(k -> "  " + k + "=").toList());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "tape,socket=s                             | unknown device type 'tape' (supported: blk, net)",
        "blk,socket=s,path=i,colour=red            | unknown key 'colour' (keys: id, socket, backend, path, size, readonly, queues, client, reconnect)",
        "blk,socket=s,path=i,readonly              | 'readonly' is not key=value",
        "blk,socket=s,,path=i,                     | empty element",
        "blk,,socket=s                             | unknown device type 'blk,socket=s'",
        "blk,socket=s,path=i,socket=t              | key 'socket' given twice",
        "blk,id=0bad,socket=s,path=i               | bad id '0bad'",
        "blk,id=has space,socket=s,path=i          | bad id 'has space'",
        "blk,id=,socket=s,path=i                   | bad id ''",
        "blk,path=i                                | id=blk0: socket=PATH is required",
        "blk,socket=,path=i                        | socket=PATH is required",
        "blk,socket=s                              | id=blk0: backend=file needs path=IMAGE",
        "blk,socket=s,backend=file,path=           | backend=file needs path=IMAGE",
        "blk,socket=s,backend=disk,path=i          | bad backend 'disk' (file, memory or null)",
        "blk,socket=s,backend=memory,path=i,size=1M | path= is only for backend=file, not backend=memory",
        "blk,socket=s,backend=null,path=i,size=1M  | path= is only for backend=file, not backend=null",
        "blk,socket=s,backend=memory               | backend=memory needs size=BYTES",
        "blk,socket=s,backend=null                 | backend=null needs size=BYTES",
        "blk,socket=s,backend=memory,size=2G       | a memory disk holds at most 2147483136 bytes",
        "blk,socket=s,path=i,size=0                | size 0 must be a positive multiple of 512 bytes",
        "blk,socket=s,path=i,size=1000             | size 1000 must be a positive multiple of 512 bytes",
        "blk,socket=s,path=i,size=-512             | bad size '-512'",
        "blk,socket=s,path=i,size=1.5G             | bad size '1.5G'",
        "blk,socket=s,path=i,size=1P               | bad size '1P'",
        "blk,socket=s,path=i,size=99999999999999999999 | bad size",
        "blk,socket=s,path=i,size=9999999999999999999 | too large",
        "blk,socket=s,path=i,size=8388608T         | too large",
        "blk,socket=s,path=i,readonly=yes          | readonly=yes must be on or off",
        "blk,socket=s,path=i,queues=0              | queues=0 must be a number from 1 to 1024",
        "blk,socket=s,path=i,queues=1025           | queues=1025 must be a number from 1 to 1024",
        "blk,socket=s,path=i,queues=two            | queues=two must be a number from 1 to 1024",
        "blk,socket=s,path=i,client=yes            | client=yes must be on or off",
        "blk,socket=s,path=i,client=               | client= must be on or off",
        "blk,socket=s,path=i,reconnect=2           | reconnect= is only for client=on",
        "blk,socket=s,path=i,client=off,reconnect=2 | reconnect= is only for client=on",
        "blk,socket=s,path=i,client=on,reconnect=0 | reconnect=0 must be whole seconds from 1 to 3600",
        "blk,socket=s,path=i,client=on,reconnect=-1 | reconnect=-1 must be whole seconds from 1 to 3600",
        "blk,socket=s,path=i,client=on,reconnect=1.5 | reconnect=1.5 must be whole seconds",
        "blk,socket=s,path=i,client=on,reconnect=1s | reconnect=1s must be whole seconds",
        "blk,socket=s,path=i,client=on,reconnect=  | reconnect= must be whole seconds",
        "blk,socket=s,path=i,client=on,reconnect=3601 | reconnect=3601 must be whole seconds from 1 to 3600",
        "blk,socket=s,path=i,client=on,reconnect=99999999999 | reconnect=99999999999 must be whole seconds",
    })
    void badDeviceIsOneClearLine(String spec, String message) {
        assertThatThrownBy(() -> one(spec)).isInstanceOf(UsageException.class)
                .hasMessageContaining(message.trim())
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n").startsWith("--device"));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "\"\"                                                          | no --device given",
        "--device                                                    | --device needs a value",
        "--verbose                                                   | unknown argument '--verbose'",
        "blk,socket=s,path=i                                         | unknown argument 'blk,socket=s,path=i'",
        "--device blk,socket=a,path=x --device blk,id=blk0,socket=b,path=y | two devices have id=blk0",
        "--device blk,socket=a,path=x --device blk,socket=./a,path=y | two devices listen on socket=./a",
        "--device blk,socket=a,path=x,client=on --device blk,socket=a,path=y,client=on | two devices connect to socket=a",
        "--device blk,socket=a,path=x,client=on --device blk,socket=a,path=y | two devices listen on socket=a",
    })
    void badCommandLine(String line, String message) {
        List<String> argv = line.isBlank() ? List.of() : List.of(line.trim().split(" "));
        assertThatThrownBy(() -> DeviceOptionParser.parseArguments(argv)).isInstanceOf(UsageException.class)
                .hasMessageContaining(message.trim());
    }
}
