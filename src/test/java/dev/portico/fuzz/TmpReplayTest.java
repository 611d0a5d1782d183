package dev.portico.fuzz;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class TmpReplayTest {
    static final String[] INPUTS = {
        "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n184467440737095516165\r\nhello\r\n0\r\n\r\n",
        "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n100000005\r\nhello\r\n0\r\n\r\n",
        "POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n",
    };

    @Test
    void replay() throws Exception {
        try (FuzzHarness h = new FuzzHarness()) {
            for (String in : INPUTS) {
                FuzzHarness.TryResult r = h.play(in.getBytes(StandardCharsets.ISO_8859_1), 60);
                System.out.println("REPLAY " + Wire.escape(r.input()) + "\n  client: " + Wire.escape(r.received())
                        + "\n  backend: " + r.backend() + "\n  access: " + r.access() + "\n  warn: " + r.warnings()
                        + "\n  problems: " + Invariants.check(r, new FuzzStats()));
            }
        }
    }
}
