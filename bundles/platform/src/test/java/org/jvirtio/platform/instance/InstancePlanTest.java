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

    @Test
    void pciTransportNamesTheQemuAndTheSlot() {
        InstancePlan p = plan("blk,id=b,transport=pci,qmp=/run/q.qmp,qtest=/run/q.qtest,slot=31,size=1M");
        assertThat(p.transport()).isEqualTo(new ComponentConfig("org.jvirtio.pci.transport",
                Map.of("qmp", "/run/q.qmp", "qtest", "/run/q.qtest", "slot", 31,
                        "device.target", "(jvirtio.id=b)", "jvirtio.id", "b")));
        assertThat(p).extracting(InstancePlan::pci, InstancePlan::qmp, InstancePlan::qtest, InstancePlan::slot)
                .containsExactly(true, "/run/q.qmp", "/run/q.qtest", 31);
        assertThat(plan("net,id=n,transport=PCI,qmp=q,slot=1").transport().properties())
                .containsEntry("qtest", "").containsEntry("slot", 1);
        assertThat(plan("blk,id=b,socket=s,size=1M").pci()).isFalse();
    }

    @Test
    void mmioTransportNamesTheQemuTheSlotAndTheWindow() {
        InstancePlan p = plan("console,id=c,transport=mmio,qmp=/run/q.qmp,qtest=/run/q.qtest,slot=3,window=2,path=/run/c.sock");
        assertThat(p.transport()).isEqualTo(new ComponentConfig("org.jvirtio.mmio.transport",
                Map.of("qmp", "/run/q.qmp", "qtest", "/run/q.qtest", "slot", 3, "window", 2,
                        "device.target", "(jvirtio.id=c)", "jvirtio.id", "c")));
        assertThat(p).extracting(InstancePlan::mmio, InstancePlan::pci, InstancePlan::qemuAttached, InstancePlan::window)
                .containsExactly(true, false, true, 2);
        assertThat(plan("balloon,id=b,transport=MMIO,qmp=q,slot=31").transport().properties())
                .containsEntry("qtest", "").containsEntry("window", 0);
        assertThat(plan("blk,id=b,transport=pci,qmp=q,slot=1,size=1M")).extracting(InstancePlan::mmio,
                InstancePlan::qemuAttached).containsExactly(false, true);
        assertThat(plan("blk,id=b,socket=s,size=1M").qemuAttached()).isFalse();
    }

    @Test
    void consoleIsOnePortOnASocketALogOrMemory() {
        InstancePlan p = plan("console,id=con0,transport=pci,qmp=q,slot=5,path=/run/con0.sock,name=org.jvirtio.0,cols=132,rows=50");
        assertThat(p.backendName()).isEqualTo("socket");
        assertThat(p.backend()).isEqualTo(new ComponentConfig("org.jvirtio.console.backend.socket",
                Map.of("path", "/run/con0.sock", "port", 0)));
        assertThat(p.device()).isEqualTo(new ComponentConfig("org.jvirtio.console.device",
                Map.of("ports", 1, "consolePort", 0, "backends.cardinality.minimum", 1, "names", "org.jvirtio.0",
                        "cols", 132, "rows", 50, "packed", true, "jvirtio.id", "con0")));
        assertThat(p.backendTarget()).isEqualTo("backends.target");
        assertThat(plan("console,id=c,transport=pci,qmp=q,slot=5,backend=log,path=/var/c.log").backend())
                .isEqualTo(new ComponentConfig("org.jvirtio.console.backend.log", Map.of("path", "/var/c.log", "port", 0)));
        assertThat(plan("console,id=c,transport=pci,qmp=q,slot=5,backend=memory").backend())
                .isEqualTo(new ComponentConfig("org.jvirtio.console.backend.memory", Map.of("port", 0)));
        assertThat(plan("console,id=c,transport=pci,qmp=q,slot=5,backend=memory").device().properties())
                .containsEntry("cols", 80).containsEntry("rows", 24).doesNotContainKey("names");
    }

    @Test
    void balloonHasNoBackendAndATargetInPagesOrASize() {
        InstancePlan p = plan("balloon,id=bal0,transport=pci,qmp=q,slot=6,target=256M,stats_period=2,free_page_hint=off");
        assertThat(p.backend()).isNull();
        assertThat(p.backendName()).isEqualTo("none");
        assertThat(p.device()).isEqualTo(new ComponentConfig("org.jvirtio.balloon.device",
                Map.of("targetPages", 65536L, "statsPeriodSeconds", 2, "deflateOnOom", true, "freePageHint", false,
                        "pageReporting", true, "packed", true, "jvirtio.id", "bal0")));
        assertThat(plan("balloon,id=b,transport=pci,qmp=q,slot=6").device().properties())
                .containsEntry("targetPages", 0L).containsEntry("statsPeriodSeconds", 10);
        assertThat(plan("balloon,id=b,transport=pci,qmp=q,slot=6,target=1000").device().properties())
                .containsEntry("targetPages", 1000L);
        assertThat(plan("balloon,id=b,transport=pci,qmp=q,slot=6,target=4294967295").device().properties())
                .containsEntry("targetPages", 4294967295L);
        assertThat(plan("balloon,id=b,transport=pci,qmp=q,slot=6,target=8k").device().properties())
                .containsEntry("targetPages", 2L);
        assertThat(plan("balloon,id=b,transport=pci,qmp=q,slot=6,target=16383G").device().properties())
                .containsEntry("targetPages", 16383L << 18);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "blk,id=b,transport=pci,slot=5,size=1M                | device b: qmp: missing",
        "blk,id=b,transport=pci,qmp=,slot=5,size=1M           | device b: qmp: missing",
        "blk,id=b,transport=pci,qmp=q,size=1M                 | device b: slot: missing (the PCI slot, 1 to 31",
        "blk,id=b,transport=pci,qmp=q,slot=0,size=1M          | device b: slot: '0' is not a whole number from 1 to 31",
        "blk,id=b,transport=pci,qmp=q,slot=32,size=1M         | device b: slot: '32' is not a whole number from 1 to 31",
        "blk,id=b,transport=pci,qmp=q,slot=0x5,size=1M        | device b: slot: '0x5' is not a whole number from 1 to 31",
        "blk,id=b,transport=pci,qmp=q,slot=,size=1M           | device b: slot: '' is not a whole number",
        "blk,id=b,transport=pci,qmp=q,qtest=,slot=5,size=1M   | device b: qtest: missing",
        "blk,id=b,transport=pci,qmp=q,slot=5,socket=s,size=1M | device b: socket: a vhost-user key; transport=pci takes qmp, qtest and slot",
        "net,id=n,transport=pci,qmp=q,slot=5,drain_ms=5       | device n: drain_ms: a vhost-user key",
        "net,id=n,socket=s,slot=5                             | device n: slot: only with transport=pci",
        "net,id=n,socket=s,qmp=q                              | device n: qmp: only with transport=pci",
        "net,id=n,transport=usb,socket=s                      | device n: transport: 'usb' is not one of [mmio, pci, vhost-user]",
        "console,id=c,socket=s,path=p                         | device c: transport: a console device needs transport=pci or transport=mmio (QEMU 7.2 has no vhost-user front end for virtio-console or virtio-balloon)",
        "net,id=n,transport=mmio,socket=s                     | device n: socket: a vhost-user key; transport=mmio takes qmp, qtest, slot and window",
        "blk,id=b,transport=mmio,slot=5,size=1M               | device b: qmp: missing",
        "blk,id=b,transport=mmio,qmp=q,size=1M                | device b: slot: missing (the PCI slot, 1 to 31",
        "blk,id=b,transport=mmio,qmp=q,slot=32,size=1M        | device b: slot: '32' is not a whole number from 1 to 31",
        "blk,id=b,transport=mmio,qmp=q,slot=5,window=-1,size=1M | device b: window: '-1' is not a whole number from 0 to 63",
        "blk,id=b,transport=mmio,qmp=q,slot=5,window=64,size=1M | device b: window: '64' is not a whole number from 0 to 63",
        "blk,id=b,transport=pci,qmp=q,slot=5,window=0,size=1M | device b: window: only with transport=mmio",
        "blk,id=b,socket=s,window=0,size=1M                   | device b: window: only with transport=pci or transport=mmio",
        "balloon,id=b,transport=vhost-user,socket=s           | device b: transport: a balloon device needs transport=pci",
        "console,id=c,transport=pci,qmp=q,slot=5              | device c: path: missing",
        "console,id=c,transport=pci,qmp=q,slot=5,backend=log  | device c: path: missing",
        "console,id=c,transport=pci,qmp=q,slot=5,backend=tcp,path=p | device c: backend: 'tcp' is not one of [log, memory, socket]",
        "console,id=c,transport=pci,qmp=q,slot=5,backend=memory,path=p | device c: path: backend=memory has no path",
        "console,id=c,transport=pci,qmp=q,slot=5,path=p,name=a/b | device c: name: 'a/b' is not a port name",
        "console,id=c,transport=pci,qmp=q,slot=5,path=p,name=  | device c: name: missing",
        "console,id=c,transport=pci,qmp=q,slot=5,path=p,cols=0 | device c: cols: '0' is not a whole number from 1 to 65535",
        "console,id=c,transport=pci,qmp=q,slot=5,path=p,rows=65536 | device c: rows: '65536' is not a whole number from 1 to 65535",
        "console,id=c,transport=pci,qmp=q,slot=5,path=p,size=1M | device c: size: unknown key(s)",
        "balloon,id=b,transport=pci,qmp=q,slot=5,target=-1     | device b: target: '-1' is not a balloon size",
        "balloon,id=b,transport=pci,qmp=q,slot=5,target=4294967296 | device b: target: '4294967296' is not a balloon size",
        "balloon,id=b,transport=pci,qmp=q,slot=5,target=16384G | device b: target: '16384G' is not a balloon size",
        "balloon,id=b,transport=pci,qmp=q,slot=5,target=1K     | device b: target: '1K' is not a balloon size",
        "balloon,id=b,transport=pci,qmp=q,slot=5,target=1.5G   | device b: target: '1.5G' is not a balloon size",
        "balloon,id=b,transport=pci,qmp=q,slot=5,target=       | device b: target: empty",
        "balloon,id=b,transport=pci,qmp=q,slot=5,stats_period=3601 | device b: stats_period: '3601' is not a whole number from 0 to 3600",
        "balloon,id=b,transport=pci,qmp=q,slot=5,page_reporting=maybe | device b: page_reporting: 'maybe' is not on or off",
        "balloon,id=b,transport=pci,qmp=q,slot=5,path=p        | device b: path: unknown key(s)",
    })
    void pciConsoleAndBalloonKeysAreChecked(String spec, String message) {
        refusesWithTheDeviceAndTheKey(spec, message);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', value = {
        "blk,socket=s,path=p                              | a device instance needs id=NAME",
        "blk,id=9x,socket=s,path=p                        | id=9x: a letter",
        "blk,id=has space,socket=s,path=p                 | id=has space: a letter",
        "blk,id=,socket=s,path=p                          | a device instance needs id=NAME",
        "blk,id=b,path=p                                  | device b: socket: missing",
        "blk,id=b,socket=,path=p                          | device b: socket: missing",
        "disk,id=b,socket=s                               | device b: type: 'disk' is not blk, net, console or balloon",
        "blk,id=b,socket=s,path=p,colour=red              | device b: colour: unknown key(s); known: backend, client, drain_ms, id, packed, path, queues, readonly, reconnect, size, socket, transport, type",
        "blk,id=b,socket=s,path=p,transport=mmio          | device b: socket: a vhost-user key; transport=mmio takes",
        "blk,id=b,socket=s,backend=tape                   | device b: backend: 'tape' is not one of [file, memory, null]",
        "blk,id=b,socket=s,backend=                       | device b: backend: empty",
        "blk,id=b,socket=s,backend=file                   | device b: path: missing",
        "blk,id=b,socket=s,backend=file,path=             | device b: path: missing",
        "blk,id=b,socket=s                                | device b: size: missing (backend=memory needs size=BYTES)",
        "blk,id=b,socket=s,backend=memory                 | device b: size: missing (backend=memory needs size=BYTES)",
        "blk,id=b,socket=s,backend=null                   | device b: size: missing (backend=null needs size=BYTES)",
        "blk,id=b,socket=s,backend=memory,size=1M,path=p  | device b: path: only backend=file has a path",
        "blk,id=b,socket=s,backend=null,size=1M,path=p    | device b: path: only backend=file has a path",
        "blk,id=b,socket=s,backend=memory,size=2G         | device b: size: 2147483648 bytes: a memory disk holds at most 2147483136",
        "blk,id=b,socket=s,path=p,size=12Q                | device b: size: '12Q' is not a size",
        "blk,id=b,socket=s,path=p,size=0                  | device b: size: '0' is not a size (a positive multiple of 512 bytes",
        "blk,id=b,socket=s,path=p,size=1000               | device b: size: '1000' is not a size",
        "blk,id=b,socket=s,path=p,size=-512               | device b: size: '-512' is not a size",
        "blk,id=b,socket=s,path=p,size=1.5G               | device b: size: '1.5G' is not a size",
        "blk,id=b,socket=s,path=p,size=1P                 | device b: size: '1P' is not a size",
        "blk,id=b,socket=s,path=p,size=                   | device b: size: '' is not a size",
        "blk,id=b,socket=s,path=p,size=99999999999999999999 | device b: size: '99999999999999999999' is not a size",
        "blk,id=b,socket=s,path=p,size=9999999999999999999 | device b: size: '9999999999999999999' is not a size",
        "blk,id=b,socket=s,path=p,size=8388608T           | device b: size: '8388608T' is not a size",
        "blk,id=b,socket=s,path=p,readonly=maybe          | device b: readonly: 'maybe' is not on or off",
        "blk,id=b,socket=s,path=p,readonly=               | device b: readonly: '' is not on or off",
        "blk,id=b,socket=s,path=p,packed=1                | device b: packed: '1' is not on or off",
        "blk,id=b,socket=s,path=p,queues=0                | device b: queues: '0' is not a whole number from 1 to 1024",
        "blk,id=b,socket=s,path=p,queues=1025             | device b: queues: '1025' is not a whole number from 1 to 1024",
        "blk,id=b,socket=s,path=p,queues=two              | device b: queues: 'two' is not a whole number from 1 to 1024",
        "blk,id=b,socket=s,path=p,client=maybe            | device b: client: 'maybe' is not on or off",
        "blk,id=b,socket=s,path=p,client=                 | device b: client: '' is not on or off",
        "blk,id=b,socket=s,path=p,reconnect=2             | device b: reconnect: only with client=on",
        "blk,id=b,socket=s,path=p,client=off,reconnect=2  | device b: reconnect: only with client=on",
        "blk,id=b,socket=s,path=p,client=on,reconnect=0   | device b: reconnect: '0' is not a whole number from 1 to 3600",
        "blk,id=b,socket=s,path=p,client=on,reconnect=-1  | device b: reconnect: '-1' is not a whole number from 1 to 3600",
        "blk,id=b,socket=s,path=p,client=on,reconnect=1.5 | device b: reconnect: '1.5' is not a whole number",
        "blk,id=b,socket=s,path=p,client=on,reconnect=1s  | device b: reconnect: '1s' is not a whole number",
        "blk,id=b,socket=s,path=p,client=on,reconnect=    | device b: reconnect: '' is not a whole number",
        "blk,id=b,socket=s,path=p,client=on,reconnect=3601 | device b: reconnect: '3601' is not a whole number from 1 to 3600",
        "blk,id=b,socket=s,path=p,client=on,reconnect=99999999999 | device b: reconnect: '99999999999' is not a whole number",
        "blk,id=b,socket=s,path=p,drain_ms=600001         | device b: drain_ms: '600001' is not a whole number from 0 to 600000",
        "net,id=n,socket=s,colour=red                     | device n: colour: unknown key(s); known: backend, client, drain_ms, id, ifname, mac, mrg_rxbuf, mtu, packed, queues, reconnect, socket, switch, transport, type",
        "net,id=n,socket=s,path=i                         | device n: path: unknown key(s)",
        "net,id=1net,socket=s                             | id=1net: a letter",
        "net,id=n,switch=lan0                             | device n: socket: missing",
        "net,id=n,socket=s,backend=bridge                 | device n: backend: 'bridge' is not one of [sink, switch, tap]",
        "net,id=n,socket=s,backend=                       | device n: backend: empty",
        "net,id=n,socket=s,switch=                        | device n: switch: empty",
        "net,id=n,socket=s,switch=lan/0                   | device n: switch: 'lan/0' is not a switch name",
        "net,id=n,socket=s,backend=sink,switch=lan0       | device n: switch: only backend=switch has a switch",
        "net,id=n,socket=s,backend=tap,switch=lan0,ifname=t0 | device n: switch: only backend=switch has a switch",
        "net,id=n,socket=s,backend=tap                    | device n: ifname: missing",
        "net,id=n,socket=s,backend=tap,ifname=            | device n: ifname: missing",
        "net,id=n,socket=s,backend=tap,ifname=a-very-long-name | device n: ifname: 'a-very-long-name' is not an interface name",
        "net,id=n,socket=s,backend=tap,ifname=a/b         | device n: ifname: 'a/b' is not an interface name",
        "net,id=n,socket=s,backend=tap,ifname=tap 0       | device n: ifname: 'tap 0' is not an interface name",
        "net,id=n,socket=s,backend=tap,ifname=..          | device n: ifname: '..' is not an interface name",
        "net,id=n,socket=s,backend=tap,ifname=.           | device n: ifname: '.' is not an interface name",
        "net,id=n,socket=s,ifname=tap0                    | device n: ifname: only backend=tap has an ifname",
        "net,id=n,socket=s,backend=sink,ifname=tap0       | device n: ifname: only backend=tap has an ifname",
        "net,id=n,socket=s,mac=52:54:00:00:01             | device n: mac: '52:54:00:00:01' is not a unicast address",
        "net,id=n,socket=s,mac=52-54-00-12-34-56          | device n: mac: '52-54-00-12-34-56' is not a unicast address",
        "net,id=n,socket=s,mac=52:54:00:12:34:5g          | device n: mac: '52:54:00:12:34:5g' is not a unicast address",
        "net,id=n,socket=s,mac=525400123456               | device n: mac: '525400123456' is not a unicast address",
        "net,id=n,socket=s,mac=                           | device n: mac: missing",
        "net,id=n,socket=s,mac=01:00:5e:00:00:01          | device n: mac: '01:00:5e:00:00:01' is not a unicast address",
        "net,id=n,socket=s,mac=ff:ff:ff:ff:ff:ff          | device n: mac: 'ff:ff:ff:ff:ff:ff' is not a unicast address",
        "net,id=n,socket=s,mac=00:00:00:00:00:00          | device n: mac: '00:00:00:00:00:00' is not a unicast address",
        "net,id=n,socket=s,mtu=67                         | device n: mtu: '67' is not a whole number from 68 to 65517",
        "net,id=n,socket=s,mtu=65518                      | device n: mtu: '65518' is not a whole number from 68 to 65517",
        "net,id=n,socket=s,mtu=1.5k                       | device n: mtu: '1.5k' is not a whole number",
        "net,id=n,socket=s,mtu=                           | device n: mtu: '' is not a whole number",
        "net,id=n,socket=s,queues=0                       | device n: queues: '0' is not a whole number from 1 to 511",
        "net,id=n,socket=s,queues=512                     | device n: queues: '512' is not a whole number from 1 to 511",
        "net,id=n,socket=s,queues=two                     | device n: queues: 'two' is not a whole number from 1 to 511",
        "net,id=n,socket=s,packed=sometimes               | device n: packed: 'sometimes' is not on or off",
        "net,id=n,socket=s,mrg_rxbuf=1                    | device n: mrg_rxbuf: '1' is not on or off",
        "net,id=n,socket=s,client=on,reconnect=3601       | device n: reconnect: '3601' is not a whole number from 1 to 3600",
        "net,id=n,socket=s,reconnect=2                    | device n: reconnect: only with client=on",
    })
    void refusesWithTheDeviceAndTheKey(String spec, String message) {
        assertThatThrownBy(() -> plan(spec)).isInstanceOf(InstanceConfigException.class)
                .hasMessageContaining(message.trim())
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @ParameterizedTest
    @CsvSource({"512,512", "4096,4096", "1k,1024", "2K,2048", "3m,3145728", "1g,1073741824", "1T,1099511627776",
            "8388607T,9223370937343148032"})
    void sizes(String text, long bytes) {
        assertThat(plan("blk,id=b,socket=s,path=i,size=" + text).backend().properties()).containsEntry("size", bytes);
    }

    @Test
    void aPathWithANulIsRefused() {
        assertThatThrownBy(() -> plan("blk,id=b,socket=a\0b,path=x")).isInstanceOf(InstanceConfigException.class)
                .hasMessageContaining("device b: socket: 'a\\0b' is not a path");
        assertThatThrownBy(() -> plan("blk,id=b,socket=s,path=x\0y")).isInstanceOf(InstanceConfigException.class)
                .hasMessageContaining("device b: path: 'x\\0y' is not a path");
    }

    @Test
    void limitsAreAccepted() {
        assertThat(plan("blk,id=b,socket=s,path=i,queues=1024").device().properties()).containsEntry("queues", 1024);
        assertThat(plan("blk,id=b,socket=s,backend=memory,size=2147483136").backend().properties())
                .containsEntry("size", 2147483136L);
        assertThat(plan("net,id=n,socket=s,mtu=68").device().properties()).containsEntry("mtu", 68);
        assertThat(plan("net,id=n,socket=s,mtu=65517").device().properties()).containsEntry("mtu", 65517);
        assertThat(plan("net,id=n,socket=s,queues=511").device().properties()).containsEntry("queues", 511);
        assertThat(plan("net,id=n,socket=s,client=on,reconnect=3600").reconnectSeconds()).isEqualTo(3600);
        assertThat(plan("net,id=n,socket=s,backend=tap,ifname=jv-tap0.x").backend().properties())
                .containsEntry("ifname", "jv-tap0.x");
        assertThat(plan("blk,id=b,socket=s,path=i,readonly=yes,packed=false").device().properties())
                .containsEntry("readOnly", true).containsEntry("packed", false);
    }

    @Test
    void planNamesWhatTheLauncherNeeds() {
        InstancePlan p = plan("net,id=n,socket=/run/q.sock,client=on,reconnect=7,backend=sink");
        assertThat(p).extracting(InstancePlan::type, InstancePlan::backendName, InstancePlan::socket,
                InstancePlan::client, InstancePlan::reconnectSeconds)
                .containsExactly("net", "sink", "/run/q.sock", true, 7);
        assertThat(plan("blk,id=b,socket=s,path=p").backendName()).isEqualTo("file");
        assertThat(plan("blk,id=b,socket=s,size=1M").backendName()).isEqualTo("memory");
        assertThat(p.keys()).containsEntry("reconnect", "7");
    }

    @Test
    void userKeysLeaveOutWhatTheFrameworkAdds() {
        assertThat(DeviceInstance.userKeys(Map.of("service.pid", "x", "felix.fileinstall.filename", "f",
                "component.id", 3, "osgi.ds.satisfying.condition.target", "(x=y)", "objectClass", "z", "id", "blk0",
                "queues", 2)))
                .containsExactly(Map.entry("id", "blk0"), Map.entry("queues", "2"));
    }
}
