package org.jvirtio.itest.guest;

import static org.jvirtio.itest.guest.GuestChecks.awaitMarker;
import static org.jvirtio.itest.guest.GuestChecks.check;

import java.time.Duration;
import java.util.List;

import org.jvirtio.device.console.ConsoleCounter;
import org.jvirtio.device.console.ConsoleDevice;
import org.jvirtio.device.console.ConsoleDeviceOptions;
import org.jvirtio.device.console.backend.memory.MemoryBackend;

/**
 * The virtio-console check the real-guest tests run on every transport: a console with hvc0 (port 0)
 * and a named port (port 1, {@value #PORT_NAME}, so MULTIPORT), text both ways on both ports, and a
 * resize from the host that the guest sees in {@code stty size} on hvc0 (RESIZE on the control queue).
 * Three parts: {@link #guestLines()} for the guest's /test.sh, {@link #hostStep} when the guest is
 * ready, {@link #verify} once the guest has ended.
 */
final class ConsolePortsCheck {
    static final String PORT_NAME = "org.jvirtio.test.port1";
    /** What the guest prints once both ports are open and it waits for the host. */
    private static final String READY = "CONSOLE-READY";
    private static final int COLS = 132;
    private static final int ROWS = 43;
    private static final String HVC0_OUT = "hvc0 says hello";
    private static final String PORT_OUT = "the named port says hello";
    private static final String HVC0_IN = "to hvc0 from the host";
    private static final String PORT_IN = "to the named port from the host";

    private final MemoryBackend hvc = new MemoryBackend();
    private final MemoryBackend port1 = new MemoryBackend();
    private final ConsoleDevice device;

    /** A console of two ports on memory backends, with split or packed rings offered. */
    ConsolePortsCheck(boolean packed) {
        device = new ConsoleDevice(List.of(hvc, port1),
                ConsoleDeviceOptions.builder().names("", PORT_NAME).packed(packed).build());
    }

    ConsoleDevice device() {
        return device;
    }

    /**
     * The guest's part, after {@link GuestChecks#awaitFunctionLines()} and once virtio_console is bound:
     * each port opened once (a port takes one opener), a line written to each, the size of hvc0, then
     * {@value #READY}; then a line read from each and the changed size.
     */
    static String guestLines() {
        return String.join("\n",
                "named_port() { grep -lx " + PORT_NAME + " /sys/class/virtio-ports/*/name; }",
                "await 60 'named port' named_port",
                "vport=/dev/$(basename $(dirname $(named_port)))",
                "echo \"VPORT-NAME $(cat /sys/class/virtio-ports/$(basename $vport)/name)\"",
                "waitfor $vport 10",
                "exec 3</dev/hvc0 4<>$vport",
                "stty -echo <&3",
                "echo '" + HVC0_OUT + "' > /dev/hvc0",
                "echo '" + PORT_OUT + "' >&4",
                "before=$(stty size <&3)",
                "echo \"SIZE-BEFORE $before\"",
                "echo " + READY,
                "read -t 120 line <&3 || line=nothing",
                "echo \"HVC0-IN $line\"",
                "read -t 120 line <&4 || line=nothing",
                "echo \"VPORT-IN $line\"",
                "resized() { [ \"$(stty size <&3)\" != \"$before\" ]; }",
                "await 120 resize resized",
                "echo \"SIZE-AFTER $(stty size <&3)\"",
                "exec 3<&- 4<&-");
    }

    /** The host's part: once the guest is ready, a line to each port and the resize. */
    void hostStep(Guest.Running guest, Duration max) throws InterruptedException {
        awaitMarker(guest, READY, max);
        hvc.send(HVC0_IN + "\n");
        port1.send(PORT_IN + "\n");
        device.resize(COLS, ROWS);
    }

    /** Both ways on both ports, the port's name, the resize, and nothing malformed counted. */
    void verify(Guest.Result r, String name) {
        System.out.println(name + ": console " + device.counters());
        check(r, hvc.outputText().contains(HVC0_OUT), "hvc0 output at the host: " + hvc.outputText());
        check(r, port1.outputText().contains(PORT_OUT), "named port output at the host: " + port1.outputText());
        check(r, r.value("VPORT-NAME ").equals(PORT_NAME), "port name in sysfs");
        check(r, r.value("HVC0-IN ").equals(HVC0_IN), "host input on hvc0");
        check(r, r.value("VPORT-IN ").equals(PORT_IN), "host input on the named port");
        check(r, r.value("SIZE-AFTER ").equals(ROWS + " " + COLS), "stty size after the resize");
        check(r, !r.value("SIZE-BEFORE ").equals(ROWS + " " + COLS), "the size before the resize");
        for (ConsoleCounter c : ConsoleCounter.MALFORMED) {
            check(r, device.count(c) == 0, "console: " + c + " counted: " + device.counters());
        }
    }
}
