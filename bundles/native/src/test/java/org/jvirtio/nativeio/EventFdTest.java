package org.jvirtio.nativeio;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;


import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

class EventFdTest {

    @Test
    void writesAddUpAndAReadResetsTheCounter() throws Exception {
        try (EventFd event = EventFd.create(true)) {
            event.write(3);
            event.write(4);
            assertThat(event.read()).isEqualTo(7);
            assertThat(event.read()).isZero();
        }
    }

    @Test
    void signalsMergeIntoOneRead() throws Exception {
        try (EventFd event = EventFd.create(true)) {
            for (int i = 0; i < 5; i++) {
                event.signal();
            }
            assertThat(event.read()).isEqualTo(5);
        }
    }

    @Test
    void aNonBlockingReadOfAnEmptyCounterReturnsZero() throws Exception {
        try (EventFd event = EventFd.create(true)) {
            assertThat(event.read()).isZero();
        }
    }

    @Test
    @Timeout(10)
    void aBlockingReadWaitsForASignal() throws Exception {
        try (EventFd event = EventFd.create(false)) {
            BlockingCall<Long> reader = BlockingCall.start("read", event::read).awaitBlockedIn("read");
            assertThat(reader.isDone()).isFalse();
            event.write(9);
            assertThat(reader.get()).isEqualTo(9);
        }
    }

    @Test
    void anAdoptedDuplicateSeesTheSameCounter() throws Exception {
        try (EventFd original = EventFd.create(true)) {
            try (EventFd adopted = EventFd.adopt(original.fd().duplicate())) {
                assertThat(adopted.fd().value()).isNotEqualTo(original.fd().value());
                adopted.signal();
                assertThat(original.read()).isEqualTo(1);
                original.write(2);
                assertThat(adopted.read()).isEqualTo(2);
            }
            // Closing the duplicate leaves the original working.
            original.signal();
            assertThat(original.read()).isEqualTo(1);
        }
    }

    @Test
    void theKernelRefusesTheAllOnesValue() throws Exception {
        try (EventFd event = EventFd.create(true)) {
            assertThatThrownBy(() -> event.write(-1L))
                    .isInstanceOfSatisfying(NativeException.class, e -> {
                        assertThat(e.call()).isEqualTo("write");
                        assertThat(e.errnoName()).isEqualTo("EINVAL");
                    });
        }
    }

    @Test
    void theDescriptorIsAnEventfd() throws Exception {
        try (EventFd event = EventFd.create(false)) {
            assertThat(ProcSelf.target(event.fd())).contains("eventfd");
        }
    }

    @Test
    void useAfterCloseFails() throws Exception {
        EventFd event = EventFd.create(true);
        event.close();
        event.close();
        assertThat(event.fd().isOpen()).isFalse();
        assertThatThrownBy(event::signal).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(event::read).isInstanceOf(IllegalStateException.class);
    }
}
