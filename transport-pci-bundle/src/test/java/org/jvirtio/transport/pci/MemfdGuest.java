package org.jvirtio.transport.pci;

import org.jvirtio.nativeio.MappedMemory;
import org.jvirtio.nativeio.Memfd;
import org.jvirtio.nativeio.NativeFd;
import org.jvirtio.vring.memory.SwappableGuestMemory;
import org.jvirtio.vring.testkit.TestMemory;

/**
 * Guest memory as QEMU shares it with the proxy: a memfd mapped shared, behind the swappable map a proxy
 * hands the function. The test's driver allocates its rings and buffers in it.
 */
final class MemfdGuest implements AutoCloseable {
    final NativeFd fd;
    final MappedMemory mapping;
    final TestMemory memory;
    final SwappableGuestMemory swappable;

    MemfdGuest(int size) throws Exception {
        fd = Memfd.create("pci-test-guest", size);
        mapping = MappedMemory.map(fd, 0, size, true);
        memory = new TestMemory(mapping);
        swappable = new SwappableGuestMemory(memory.map());
    }

    @Override
    public void close() {
        mapping.close();
        fd.close();
    }
}
