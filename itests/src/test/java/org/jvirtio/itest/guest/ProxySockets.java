package org.jvirtio.itest.guest;

import static org.jvirtio.itest.guest.GuestChecks.check;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.jvirtio.transport.pci.VirtioPciFunction;
import org.jvirtio.transport.pci.proxy.ProxiedFunction;
import org.jvirtio.transport.pci.proxy.ProxySlot;
import org.jvirtio.transport.pci.proxy.QemuProxyHost;

/**
 * What the proxy guest tests share: QEMU started paused with a QMP and a qtest socket in a
 * directory of the test's, jvirtio's functions (virtio-pci functions, or mmio slots) attached through
 * them from this JVM, and, for virtio-pci functions, the proxy's counters checked once the guest has
 * ended.
 */
final class ProxySockets {
    /** The one counter of {@link VirtioPciFunction#counters()} that counts no fault. */
    private static final String MSI_MESSAGES = "msi-messages";

    private final Path qmp;
    private final Path qtest;

    ProxySockets(Path dir) {
        this.qmp = dir.resolve("qmp.sock");
        this.qtest = dir.resolve("qtest.sock");
    }

    /** QEMU arguments: start paused, serve QMP and qtest (interrupts under TCG) on the two sockets. */
    String[] qemuArgs() {
        return new String[] {"-S", "-qmp", "unix:" + qmp + ",server=on,wait=off",
            "-qtest", "unix:" + qtest + ",server=on,wait=off", "-qtest-log", "none"};
    }

    /** Attaches every slot once QEMU has created its sockets, then resumes the guest. */
    QemuProxyHost attach(List<ProxySlot> slots) throws IOException, InterruptedException {
        // QEMU creates its sockets at start-up; a start condition, not a measured time.
        for (int i = 0; i < 1200 && !(Files.exists(qmp) && Files.exists(qtest)); i++) {
            Thread.sleep(50);
        }
        return QemuProxyHost.start(qmp, qtest, slots, Duration.ofSeconds(120));
    }

    /**
     * Prints each function's proxy and transport counters, and checks that QEMU sent nothing the proxy
     * refused, no BAR access went unmatched, guest RAM (one memfd, re-sent on every memory-map change)
     * was mapped once, the function counted nothing QEMU or the guest's driver did as a fault, and it
     * sent MSI-X messages if and only if {@code msix}.
     */
    static void checkCounters(Guest.Result r, QemuProxyHost host, String name, boolean msix) {
        for (ProxiedFunction f : host.functions()) {
            Map<String, Long> counters = f.counters();
            Map<String, Long> function = ((VirtioPciFunction) f.function()).counters();
            System.out.println(name + " " + f.slot().id() + ": proxy " + counters + "; function " + function);
            check(r, counters.get("refused") == 0 && counters.get("broken") == 0 && counters.get("barUnmatched") == 0,
                    f.slot().id() + ": proxy refused messages: " + counters);
            check(r, counters.get("memorySyncs") > 1 && counters.get("filesMapped") == 1,
                    f.slot().id() + ": guest RAM mapped once: " + counters);
            function.forEach((counter, value) -> check(r, counter.equals(MSI_MESSAGES) || value == 0,
                    f.slot().id() + ": the function counted " + counter + ": " + function));
            check(r, (function.get(MSI_MESSAGES) > 0) == msix,
                    f.slot().id() + ": MSI-X messages " + function.get(MSI_MESSAGES) + " (msix=" + msix + ")");
        }
    }
}
