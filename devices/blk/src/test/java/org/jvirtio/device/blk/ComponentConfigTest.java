package org.jvirtio.device.blk;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.annotation.Annotation;
import java.nio.file.Files;
import java.nio.file.Path;

import org.jvirtio.api.VirtioFeature;
import org.jvirtio.device.blk.backend.file.FileBackend;
import org.jvirtio.device.blk.backend.memory.MemoryBackend;
import org.jvirtio.device.blk.backend.nulldisk.NullBackend;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The DS constructors build the same things as the Java ones, from their Config types. */
class ComponentConfigTest {
    @TempDir
    Path dir;

    @Test
    void fileBackendFromConfig() throws Exception {
        Path image = dir.resolve("ds.img");
        try (FileBackend backend = new FileBackend(new FileBackend.Config() {
            public Class<? extends Annotation> annotationType() { return FileBackend.Config.class; }
            public String path() { return image.toString(); }
            public long size() { return 1 << 20; }
            public boolean create() { return true; }
            public boolean readOnly() { return false; }
            public int blockSize() { return 4096; }
            public boolean discardWritesZeroes() { return false; }
        })) {
            assertThat(Files.size(image)).isEqualTo(1 << 20);
            assertThat(backend.blockSize()).isEqualTo(4096);
        }
    }

    @Test
    void memoryAndNullBackendsFromConfig() {
        MemoryBackend memory = new MemoryBackend(new MemoryBackend.Config() {
            public Class<? extends Annotation> annotationType() { return MemoryBackend.Config.class; }
            public long size() { return 8192; }
            public boolean direct() { return false; }
            public boolean readOnly() { return true; }
            public int blockSize() { return 512; }
        });
        assertThat(memory.size()).isEqualTo(8192);
        assertThat(memory.isReadOnly()).isTrue();
        NullBackend nul = new NullBackend(new NullBackend.Config() {
            public Class<? extends Annotation> annotationType() { return NullBackend.Config.class; }
            public long size() { return 1L << 30; }
            public boolean readOnly() { return false; }
            public int blockSize() { return 512; }
        });
        assertThat(nul.size()).isEqualTo(1L << 30);
    }

    @Test
    void deviceFromConfig() {
        BlockDevice device = new BlockDevice(new NullBackend(1 << 20, false, 512), new BlockDevice.Config() {
            public Class<? extends Annotation> annotationType() { return BlockDevice.Config.class; }
            public String backend_target() { return "(service.pid=x)"; }
            public int queues() { return 2; }
            public int queueSize() { return 64; }
            public String serial() { return "ds"; }
            public boolean readOnly() { return true; }
            public boolean packed() { return false; }
            public boolean discard() { return true; }
            public boolean writeZeroes() { return true; }
        });
        assertThat(device.queueCount()).isEqualTo(2);
        assertThat(device.queueMaxSize(1)).isEqualTo(64);
        assertThat(VirtioFeature.has(device.offeredFeatures(), BlockFeatures.RO)).isTrue();
        assertThat(VirtioFeature.has(device.offeredFeatures(), VirtioFeature.RING_PACKED)).isFalse();
        assertThat(device.capacitySectors()).isEqualTo(2048);
        device.deactivate();
        assertThat(device.isActive()).isFalse();
    }
}
