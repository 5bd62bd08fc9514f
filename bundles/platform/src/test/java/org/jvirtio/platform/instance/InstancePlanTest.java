package org.jvirtio.platform.instance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Instance keys to component configurations, and every way the keys can be wrong. */
class InstancePlanTest {

    private static InstancePlan plan(String spec) {
        return InstancePlan.of(DeviceSpecs.parse(spec));
    }

    @Test
    void blkOnAFileIsAFileBackendADeviceAndASocket() {
        InstancePlan p = plan("blk,id=blk0,socket=/run/j/blk0.sock,path=/img/a,,b.raw,size=1G,queues=2,readonly=on");
        assertThat(p.id()).isEqualTo("blk0");
        assertThat(p.backend()).isEqualTo(new ComponentConfig("org.jvirtio.blk.backend.file",
                Map.of("path", "/img/a,b.raw", "size", 1L << 30, "create", true, "readOnly", true)));
        assertThat(p.device().factoryPid()).isEqualTo("org.jvirtio.blk.device");
        assertThat(p.device().properties()).containsEntry("queues", 2).containsEntry("readOnly", true)
                .containsEntry("serial", "blk0").containsEntry("jvirtio.id", "blk0");
        assertThat(p.transport()).isEqualTo(new ComponentConfig("org.jvirtio.vhostuser.transport",
                Map.of("socket", "/run/j/blk0.sock", "client", false, "reconnect", 1, "drainMillis", 5000L,
                        "device.target", "(jvirtio.id=blk0)", "jvirtio.id", "blk0")));
    }

    @Test
    void anExistingImageIsNotCreatedAndMemoryNeedsASize() {
        assertThat(plan("blk,id=b,socket=s,path=/img").backend().properties()).doesNotContainKey("create");
        assertThat(plan("blk,id=b,socket=s,backend=memory,size=64M").backend())
                .isEqualTo(new ComponentConfig("org.jvirtio.blk.backend.memory",
                        Map.of("size", 64L << 20, "readOnly", false)));
        assertThat(plan("blk,id=b,socket=s,backend=null,size=1T,client=on,reconnect=5").transport().properties())
                .containsEntry("client", true).containsEntry("reconnect", 5);
    }

    @Test
    void netOnASwitchASinkOrATap() {
        InstancePlan p = plan("net,id=net0,socket=s,switch=lan0,mac=52:54:00:AA:00:01,mtu=9000,queues=4,mrg_rxbuf=off");
        assertThat(p.backend()).isEqualTo(new ComponentConfig("org.jvirtio.net.backend.switch", Map.of("name", "lan0")));
        assertThat(p.device().properties()).containsEntry("mac", "52:54:00:aa:00:01").containsEntry("mtu", 9000)
                .containsEntry("queues", 4).containsEntry("mergeable", false).containsEntry("packed", true);
        assertThat(plan("net,id=n,socket=s").backend().properties()).containsEntry("name", "default");
        assertThat(plan("net,id=net0,socket=s").device().properties().get("mac"))
                .isEqualTo(plan("net,id=net0,socket=t").device().properties().get("mac"))
                .isNotEqualTo(plan("net,id=net1,socket=s").device().properties().get("mac"))
                .asString().matches("52:54:00:[0-9a-f]{2}:[0-9a-f]{2}:[0-9a-f]{2}");
        assertThat(plan("net,id=n,socket=s,backend=sink").backend())
                .isEqualTo(new ComponentConfig("org.jvirtio.net.backend.sink", Map.of()));
        assertThat(plan("net,id=n,socket=s,backend=tap,ifname=jv0").backend())
                .isEqualTo(new ComponentConfig("org.jvirtio.net.backend.tap", Map.of("ifname", "jv0")));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "blk,socket=s,path=p                              | a device instance needs id=NAME",
        "blk,id=9x,socket=s,path=p                        | id=9x: a letter",
        "blk,id=b,path=p                                  | device b: socket: missing",
        "disk,id=b,socket=s                               | device b: type: 'disk' is not blk or net",
        "blk,id=b,socket=s,path=p,colour=red              | device b: colour: unknown key(s)",
        "blk,id=b,socket=s,path=p,transport=pci           | device b: transport: 'pci' is not one of [vhost-user]",
        "blk,id=b,socket=s,backend=tape                   | device b: backend: 'tape' is not one of",
        "blk,id=b,socket=s,backend=memory                 | device b: size: missing (backend=memory needs size=BYTES)",
        "blk,id=b,socket=s,backend=memory,size=1M,path=p  | device b: path: only backend=file has a path",
        "blk,id=b,socket=s,path=p,size=12Q                | device b: size: '12Q' is not a size",
        "blk,id=b,socket=s,path=p,readonly=maybe          | device b: readonly: 'maybe' is not on or off",
        "blk,id=b,socket=s,path=p,queues=0                | device b: queues: '0' is not a whole number from 1 to 1024",
        "blk,id=b,socket=s,path=p,client=on,reconnect=0   | device b: reconnect: '0' is not a whole number from 1 to 3600",
        "net,id=n,socket=s,mac=01:00:5e:00:00:01          | device n: mac: '01:00:5e:00:00:01' is not a unicast address",
        "net,id=n,socket=s,mac=52:54:00:00:01             | device n: mac:",
        "net,id=n,socket=s,mtu=67                         | device n: mtu: '67' is not a whole number from 68 to 65535",
        "net,id=n,socket=s,backend=tap                    | device n: ifname: missing",
        "net,id=n,socket=s,backend=tap,ifname=a/b         | device n: ifname: 'a/b' is not an interface name",
        "net,id=n,socket=s,backend=sink,switch=lan0       | device n: switch: only backend=switch has a switch",
        "net,id=n,socket=s,ifname=tap0                    | device n: ifname: only backend=tap has an ifname",
    })
    void refusesWithTheDeviceAndTheKey(String spec, String message) {
        assertThatThrownBy(() -> plan(spec)).isInstanceOf(InstanceConfigException.class).hasMessageContaining(message);
    }

    @Test
    void specSyntaxIsQemus() {
        assertThat(DeviceSpecs.parse("blk,id=a,path=x,,y")).containsExactly(Map.entry("type", "blk"),
                Map.entry("id", "a"), Map.entry("path", "x,y"));
        assertThatThrownBy(() -> DeviceSpecs.parse("blk,id=a,id=b")).hasMessageContaining("id given twice");
        assertThatThrownBy(() -> DeviceSpecs.parse("blk,id")).hasMessageContaining("'id' is not key=value");
        assertThat(DeviceSpecs.check(DeviceSpecs.parse("net,id=net0,socket=s"))).isEqualTo("net0");
    }

    @Test
    void userKeysLeaveOutWhatTheFrameworkAdds() {
        assertThat(DeviceInstance.userKeys(Map.of("service.pid", "x", "felix.fileinstall.filename", "f",
                "component.id", 3, "osgi.ds.satisfying.condition.target", "(x=y)", "objectClass", "z", "id", "blk0",
                "queues", 2)))
                .containsExactly(Map.entry("id", "blk0"), Map.entry("queues", "2"));
    }
}
