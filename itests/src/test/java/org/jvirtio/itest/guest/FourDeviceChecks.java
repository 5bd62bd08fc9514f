package org.jvirtio.itest.guest;

import java.security.NoSuchAlgorithmException;
import java.util.List;

import org.jvirtio.api.device.VirtioDevice;

/**
 * The four device checks a real-guest test runs in one boot, the same on every transport: a disk
 * ({@link BlkPatternCheck}), a network port ({@link NetPingCheck}), a console ({@link ConsolePortsCheck})
 * and a balloon ({@link BalloonInflateCheck}), each with its device. The test puts the devices on its
 * transport, {@link #guestLines()} into the guest's /test.sh after the drivers are bound, and runs
 * the console's and the balloon's host steps (in that order) while the guest runs.
 */
final class FourDeviceChecks {
    private final BlkPatternCheck blk;
    private final NetPingCheck net;
    private final ConsolePortsCheck console;
    private final BalloonInflateCheck balloon;

    /** Devices offering split or packed rings; {@code serial} is the disk's, {@code seed} picks its pattern. */
    FourDeviceChecks(String serial, boolean packed, long seed) {
        blk = new BlkPatternCheck(serial, packed, seed);
        net = new NetPingCheck(packed);
        console = new ConsolePortsCheck(packed);
        balloon = new BalloonInflateCheck(packed);
    }

    /** The disk, the network port, the console and the balloon, in that order. */
    List<VirtioDevice> devices() {
        return List.of(blk.device(), net.device(), console.device(), balloon.device());
    }

    BlkPatternCheck blk() {
        return blk;
    }

    NetPingCheck net() {
        return net;
    }

    ConsolePortsCheck console() {
        return console;
    }

    BalloonInflateCheck balloon() {
        return balloon;
    }

    /**
     * The guest's part, after {@link GuestChecks#awaitFunctionLines()} and once the four drivers are
     * bound: the four checks one after the other.
     */
    static String guestLines() {
        return String.join("\n",
                "# blk: a pattern written and read back",
                BlkPatternCheck.guestLines(),
                "# net: pings to the responder",
                NetPingCheck.guestLines(),
                "# console: hvc0 and a named port both ways, and a resize",
                ConsolePortsCheck.guestLines(),
                "# balloon: inflate, statistics, deflate",
                BalloonInflateCheck.guestLines());
    }

    /** Each check's verdict, once the guest has ended. */
    void verify(Guest.Result r, String name) throws NoSuchAlgorithmException {
        blk.verify(r);
        net.verify(r, name);
        console.verify(r, name);
        balloon.verify(r, name);
    }
}
