package org.jvirtio.platform.instance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** A command line's {@code --device} values: syntax, default ids, devices checked against each other, the help text. */
class DeviceSpecsTest {

    @Test
    void syntaxIsQemus() {
        assertThat(DeviceSpecs.parse("blk,id=a,path=x,,y")).containsExactly(Map.entry("type", "blk"),
                Map.entry("id", "a"), Map.entry("path", "x,y"));
        assertThat(DeviceSpecs.format(DeviceSpecs.parse("blk,id=a,path=x,,y,socket=s"))).isEqualTo(
                "blk,id=a,path=x,,y,socket=s");
        assertThat(DeviceSpecs.check(DeviceSpecs.parse("net,id=net0,socket=s"))).isEqualTo("net0");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "blk,id=a,id=b                | --device blk,id=a,id=b: id given twice",
        "blk,id                       | --device blk,id: 'id' is not key=value",
        "blk,socket=s,,path=i,        | --device blk,socket=s,,path=i,: empty element",
        "blk,,socket=s                | --device blk,,socket=s: unknown device type 'blk,socket=s' (blk, net, console or balloon)",
        "tape,socket=s                | --device tape,socket=s: unknown device type 'tape' (blk, net, console or balloon)",
        "blk,=x                       | '=x' is not key=value",
    })
    void badSyntax(String spec, String message) {
        assertThatThrownBy(() -> DeviceSpecs.commandLine(List.of(spec))).isInstanceOf(InstanceConfigException.class)
                .hasMessageContaining(message.trim());
    }

    @Test
    void devicesWithoutIdAreNamedByTypeAndPosition() {
        List<InstancePlan> plans = DeviceSpecs.commandLine(List.of("blk,socket=a,path=x", "net,socket=b",
                "blk,id=third,socket=c,backend=null,size=1M"));
        assertThat(plans).extracting(InstancePlan::id).containsExactly("blk0", "net1", "third");
        assertThat(DeviceSpecs.format(plans.get(1).keys())).isEqualTo("net,socket=b,id=net1");
        assertThat(plans.get(1).device().properties()).containsEntry("mac", NetType.defaultMac("net1"));
    }

    @ParameterizedTest(name = "[{index}] {0}")
    @CsvSource(delimiter = '|', value = {
        "blk,socket=a,path=x ; blk,id=blk0,socket=b,path=y                        | two devices have id=blk0",
        "blk,socket=a,path=x ; blk,socket=./a,path=y                              | device blk1: socket: two devices listen on socket=./a",
        "blk,socket=a,path=x,client=on ; blk,socket=a,path=y,client=on            | device blk1: socket: two devices connect to socket=a",
        "blk,socket=a,path=x,client=on ; blk,socket=a,path=y                      | device blk1: socket: two devices listen on socket=a",
        "net,socket=a ; blk,socket=./a,path=x                                     | two devices listen on socket=./a",
        "net,socket=a,mac=52:54:00:00:00:01 ; net,socket=b,mac=52:54:00:00:00:01  | device net1: mac: two devices have mac=52:54:00:00:00:01",
        "net,id=x,socket=a ; net,socket=b,mac=MAC_OF_X                            | device net1: mac: two devices have mac=",
        "net,socket=a ; net,socket=b,mtu=9                                        | device net1: mtu: '9'",
        "console,transport=pci,qmp=q,slot=5,path=c ; blk,transport=pci,qmp=./q,slot=5,size=1M | device blk1: slot: slot=5 of the QEMU on qmp=./q is already device console0's",
        "balloon,transport=pci,qmp=q,slot=5 ; balloon,transport=pci,qmp=q,slot=05     | device balloon1: slot: slot=5 of the QEMU on qmp=q is already device balloon0's",
        "blk,transport=mmio,qmp=q,slot=5,size=1M ; net,transport=pci,qmp=q,slot=5     | device net1: slot: slot=5 of the QEMU on qmp=q is already the mmio windows of blk0's",
        "net,transport=pci,qmp=q,slot=5 ; blk,transport=mmio,qmp=./q,slot=5,size=1M   | device blk1: slot: slot=5 of the QEMU on qmp=./q is already device net0's",
        "blk,transport=mmio,qmp=q,slot=5,size=1M ; net,transport=mmio,qmp=q,slot=5,window=0 | device net1: window: window=0 of slot=5 of the QEMU on qmp=q is already device blk0's",
        "blk,transport=mmio,qmp=q,slot=5,window=1,size=1M ; net,transport=mmio,qmp=q,slot=5,window=2 | device blk0: window: window=1 of slot=5 leaves window 0 empty",
        "blk,transport=mmio,qmp=q,slot=5,size=1M ; net,transport=mmio,qmp=q,slot=5,window=2 | device net1: window: window=2 of slot=5 leaves window 1 empty",
        "blk,transport=mmio,qmp=q,qtest=t,slot=4,size=1M ; net,transport=pci,qmp=q,slot=5 | device net1: qtest: the devices of the QEMU on qmp=q name different qtest sockets ('t', '')",
        "blk,transport=pci,qmp=q,qtest=t,slot=4,size=1M ; net,transport=pci,qmp=q,slot=5      | device net1: qtest: the devices of the QEMU on qmp=q name different qtest sockets ('t', '')",
    })
    void devicesAreCheckedAgainstEachOther(String line, String message) {
        List<String> specs = List.of(line.replace("MAC_OF_X", NetType.defaultMac("x")).split(" ; "));
        assertThatThrownBy(() -> DeviceSpecs.commandLine(specs)).isInstanceOf(InstanceConfigException.class)
                .hasMessageContaining(message.trim());
    }

    @Test
    void pciDevicesShareAQemuInTheirOwnSlots() {
        List<InstancePlan> plans = DeviceSpecs.commandLine(List.of(
                "console,transport=pci,qmp=/run/q.qmp,qtest=/run/q.qtest,slot=5,path=/run/c.sock",
                "blk,transport=pci,qmp=/run/q.qmp,qtest=/run/q.qtest,slot=6,size=1M",
                "balloon,transport=pci,qmp=/run/q.qmp,qtest=/run/q.qtest,slot=7",
                "blk,transport=pci,qmp=/run/other.qmp,slot=5,size=1M",
                "net,socket=/run/n.sock"));
        assertThat(plans).extracting(InstancePlan::id).containsExactly("console0", "blk1", "balloon2", "blk3", "net4");
        assertThat(plans.subList(0, 4)).allMatch(InstancePlan::pci).extracting(InstancePlan::slot)
                .containsExactly(5, 6, 7, 5);
        assertThat(plans.get(4).pci()).isFalse();
    }

    @Test
    void mmioDevicesShareASlotOneWindowEachInCommandLineOrder() {
        List<InstancePlan> plans = DeviceSpecs.commandLine(List.of(
                "blk,transport=mmio,qmp=/run/q.qmp,qtest=/run/q.qtest,slot=5,size=1M",
                "console,transport=mmio,qmp=/run/q.qmp,qtest=/run/q.qtest,slot=5,path=/run/c.sock",
                "net,transport=pci,qmp=/run/q.qmp,qtest=/run/q.qtest,slot=6",
                "balloon,transport=mmio,qmp=/run/q.qmp,qtest=/run/q.qtest,slot=7",
                "net,transport=mmio,qmp=/run/q.qmp,qtest=/run/q.qtest,slot=5,window=2",
                "balloon,transport=mmio,qmp=/run/other.qmp,slot=5"));
        assertThat(plans).extracting(InstancePlan::mmio).containsExactly(true, true, false, true, true, true);
        assertThat(plans).filteredOn(InstancePlan::mmio).extracting(InstancePlan::slot, InstancePlan::window)
                .containsExactly(tuple(5, 0), tuple(5, 1), tuple(7, 0), tuple(5, 2), tuple(5, 0));
        // a window given explicitly may fill a gap an earlier device left
        List<InstancePlan> filled = DeviceSpecs.commandLine(List.of(
                "blk,transport=mmio,qmp=q,slot=5,window=1,size=1M",
                "net,transport=mmio,qmp=q,slot=5,window=0"));
        assertThat(filled).extracting(InstancePlan::window).containsExactly(1, 0);
        assertThat(DeviceSpecs.mmioSlots(filled).values()).singleElement()
                .satisfies(slots -> assertThat(slots.get(5)).extracting(InstancePlan::id).containsExactly("net1", "blk0"));
    }

    @Test
    void mmioSlotsArePerQemuPerSlotInWindowOrder() {
        List<InstancePlan> plans = DeviceSpecs.commandLine(List.of(
                "blk,transport=mmio,qmp=/run/q.qmp,slot=9,size=1M",
                "console,transport=mmio,qmp=/run/q.qmp,slot=3,path=/run/c.sock",
                "net,transport=mmio,qmp=/run/./q.qmp,slot=9",
                "net,transport=pci,qmp=/run/q.qmp,slot=4",
                "balloon,transport=mmio,qmp=/run/other.qmp,slot=5"));
        Map<Path, Map<Integer, List<InstancePlan>>> slots = DeviceSpecs.mmioSlots(plans);
        assertThat(slots.keySet()).containsExactly(Path.of("/run/q.qmp"), Path.of("/run/other.qmp"));
        assertThat(slots.get(Path.of("/run/q.qmp")).keySet()).containsExactly(9, 3);
        assertThat(slots.get(Path.of("/run/q.qmp")).get(9)).extracting(InstancePlan::id).containsExactly("blk0", "net2");
    }

    @Test
    void helpDocumentsEveryKey() {
        DeviceSpecs.keysByType().forEach((type, keys) -> keys.stream().filter(k -> !k.equals("type"))
                .forEach(k -> assertThat(DeviceSpecs.keyHelp()).as(type + " key " + k).contains("  " + k + "=")));
    }
}
