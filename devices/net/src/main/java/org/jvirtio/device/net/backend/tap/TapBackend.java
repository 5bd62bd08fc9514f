package org.jvirtio.device.net.backend.tap;

import java.util.EnumSet;
import java.util.Set;

import org.jvirtio.api.device.DeviceActivationException;
import org.jvirtio.device.net.backend.FrameSink;
import org.jvirtio.device.net.backend.NetBackend;
import org.jvirtio.device.net.backend.NetOffload;
import org.jvirtio.device.net.backend.NetPort;
import org.jvirtio.nativeio.NativeException;
import org.jvirtio.nativeio.Tap;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/**
 * The backend "tap": a Linux TAP interface ({@code /dev/net/tun}, IFF_TAP | IFF_NO_PI | IFF_VNET_HDR),
 * so that a guest's frames enter the host's network stack as if received on that interface, and what
 * the stack sends out of it reaches the guest.
 *
 * <p>The interface is opened when a device attaches and closed when it detaches. An interface that
 * does not exist is created (this needs CAP_NET_ADMIN) and goes away again on detach, with whatever
 * addresses the host gave it; one made persistent beforehand ({@code ip tuntap add mode tap NAME})
 * stays, and is the way to keep a host-side configuration across guest reboots. Either way the host
 * brings it up and addresses it. A TAP takes one reader at a time: a second device on the same name
 * fails to attach (EBUSY).
 *
 * <p>Offloads: the vnet header carries checksum and TCP segmentation offloads both ways, so the device
 * offers them to its driver; the kernel completes and segments what the guest leaves undone, and hands
 * the guest only what it enabled (TUNSETOFFLOAD, see {@link TapPort#enableReceiveOffloads}).
 */
@Component(service = NetBackend.class, configurationPolicy = ConfigurationPolicy.REQUIRE,
        configurationPid = TapBackend.PID)
@Designate(ocd = TapBackend.Config.class, factory = true)
public final class TapBackend implements NetBackend {
    public static final String PID = "org.jvirtio.net.backend.tap";

    @ObjectClassDefinition(name = "jvirtio net backend: tap", description = "A Linux TAP interface")
    public @interface Config {
        /** The interface's name, at most 15 bytes (e.g. "jv0"; "jv%d" lets the kernel number it). */
        @AttributeDefinition(name = "Interface name", description = "The TAP interface, at most 15 bytes; created "
                + "if it does not exist (needs CAP_NET_ADMIN) and then removed again when the device stops; a "
                + "persistent one (ip tuntap add mode tap NAME) stays")
        String ifname();

        /** Carry checksum and TCP segmentation offloads through the vnet header. */
        @AttributeDefinition(name = "Offloads", description = "Offer the guest checksum and TCP segmentation "
                + "offloads (GUEST_CSUM, HOST/GUEST_TSO4/6 and ECN, CTRL_GUEST_OFFLOADS), carried to and from the kernel in "
                + "the vnet header; off: the device completes checksums itself")
        boolean offloads() default true;
    }

    private final String ifname;
    private final Set<NetOffload> offloads;

    @Activate
    public TapBackend(Config config) {
        this(config.ifname(), config.offloads());
    }

    /** @throws IllegalArgumentException without a name: the kernel would pick "tap%d", which nobody configured */
    public TapBackend(String ifname, boolean offloads) {
        if (ifname == null || ifname.isBlank()) {
            throw new IllegalArgumentException("tap backend: ifname is required");
        }
        this.ifname = ifname;
        this.offloads = offloads ? Set.copyOf(EnumSet.allOf(NetOffload.class)) : Set.of();
    }

    /**
     * Opens the interface and starts reading it for {@code sink}.
     *
     * @throws DeviceActivationException naming the interface, if it cannot be opened (no
     *         /dev/net/tun, no permission, a name too long or taken by a device that is no TAP, already
     *         open)
     */
    @Override
    public TapPort attach(FrameSink sink, byte[] mac) {
        Tap tap;
        try {
            tap = Tap.open(ifname, true);
        } catch (NativeException | IllegalArgumentException e) {
            throw new DeviceActivationException("tap backend: cannot open TAP interface '" + ifname + "': "
                    + e.getMessage(), e);
        }
        try {
            return TapPort.start(tap, sink);
        } catch (NativeException | RuntimeException e) {
            tap.close();
            throw new DeviceActivationException("tap backend: cannot serve TAP interface '" + ifname + "': "
                    + e.getMessage(), e);
        }
    }

    @Override
    public Set<NetOffload> offloads() {
        return offloads;
    }

    /** The configured interface name (a pattern until a device attaches). */
    public String ifname() {
        return ifname;
    }

    @Override
    public String toString() {
        return "TapBackend[" + ifname + "]";
    }
}
