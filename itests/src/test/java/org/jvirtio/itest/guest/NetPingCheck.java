package org.jvirtio.itest.guest;

import static org.jvirtio.itest.guest.GuestChecks.check;

import java.time.Duration;

import org.jvirtio.device.net.NetCounter;
import org.jvirtio.device.net.NetDevice;
import org.jvirtio.device.net.NetDeviceOptions;
import org.jvirtio.device.net.backend.l2.L2Switch;
import org.jvirtio.device.net.backend.l2.SwitchBackend;

/**
 * The virtio-net check the real-guest tests run on every transport: eth0 is a port of a jvirtio
 * {@code switch} whose only other port is a {@link PingResponder} in this JVM; the guest pings it and
 * every echo comes back, the responder saw nothing but ARP requests for it and echo requests to it,
 * and the device counted nothing malformed. Three parts: {@link #startResponder()} on the host,
 * {@link #guestLines()} for the guest, {@link #verify} once the guest has ended.
 */
final class NetPingCheck {
    private static final String GUEST_MAC = "52:54:00:6a:76:10";
    private static final String GUEST_IP = "10.0.2.15";
    private static final String RESPONDER_MAC = "52:54:00:6a:76:fe";
    private static final String RESPONDER_IP = "10.0.2.2";
    private static final int PINGS = 5;

    private final L2Switch lan = new L2Switch("test-lan", System::nanoTime, Duration.ofMinutes(5).toNanos(), 64);
    private final NetDevice device;
    private PingResponder responder;

    /** A net device on its own switch, with split or packed rings offered. */
    NetPingCheck(boolean packed) {
        device = new NetDevice(new SwitchBackend(lan), NetDeviceOptions.builder().mac(GUEST_MAC).packed(packed)
                .build());
    }

    NetDevice device() {
        return device;
    }

    /** The responder on the switch, for the test to close once the guest has ended. */
    PingResponder startResponder() {
        responder = new PingResponder(new SwitchBackend(lan), RESPONDER_MAC, RESPONDER_IP);
        return responder;
    }

    /**
     * The guest's part, after {@link GuestChecks#awaitFunctionLines()} and once virtio_net is bound: eth0
     * up with only IPv4 (no IPv6 chatter on the switch), a first echo awaited, then the counted pings.
     */
    static String guestLines() {
        return String.join("\n",
                "waitfor /sys/class/net/eth0 30",
                "echo 1 > /proc/sys/net/ipv6/conf/eth0/disable_ipv6 2>/dev/null || true",
                "ip addr add " + GUEST_IP + "/24 dev eth0",
                "ip link set eth0 up",
                "await 60 'first echo' ping -c 1 -W 1 " + RESPONDER_IP,
                "echo \"PING-RECEIVED $(ping -c " + PINGS + " -W 5 " + RESPONDER_IP
                        + " | sed -n 's/.* \\([0-9]*\\) packets received.*/\\1/p')\"");
    }

    /** Every echo answered, nothing but the responder reached, nothing malformed counted. */
    void verify(Guest.Result r, String name) {
        System.out.println(name + ": responder answered " + responder.arpAnswered() + " ARP, "
                + responder.echoesAnswered() + " echo; unexpected frames " + responder.unexpected() + "; net "
                + device.counters());
        check(r, r.value("PING-RECEIVED ").equals(Integer.toString(PINGS)), "pings lost");
        check(r, responder.echoesAnswered() >= PINGS && responder.arpAnswered() >= 1,
                "the responder answered " + responder.echoesAnswered() + " echoes, " + responder.arpAnswered()
                        + " ARP requests");
        check(r, responder.unexpected().isEmpty(), "frames to other addresses: " + responder.unexpected());
        for (NetCounter c : NetCounter.MALFORMED) {
            check(r, device.count(c) == 0, "net: " + c + " counted: " + device.counters());
        }
    }
}
