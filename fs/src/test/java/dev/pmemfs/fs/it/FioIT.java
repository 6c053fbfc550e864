package dev.pmemfs.fs.it;

import static dev.pmemfs.fs.it.Pmemfs.sh;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** fio with verify=crc32c, buffered and O_DIRECT, in cached (dax=never) and direct (dax=always) mode. */
@Timeout(value = 150, unit = TimeUnit.SECONDS)
final class FioIT {
    private static final Pattern DIRECT_USER = Pattern.compile("\"direct\": \\{\"user_bytes\": (\\d+)");

    @ParameterizedTest
    @ValueSource(strings = {"never", "always"})
    void fioVerify_passes_bufferedAndDirect(String dax) throws IOException {
        Path work = Files.createTempDirectory("pmemfs-fio-it");
        Path mnt = Files.createDirectory(work.resolve("mnt"));
        try (Pmemfs.Mount m = Pmemfs.Mount.start(Pmemfs.newRegion("256M"), mnt, true, "--dax=" + dax)) {
            assertTrue(m.pid > 0, "daemon pid");
            for (int direct = 0; direct <= 1; direct++) {
                sh("fio --name=v" + direct + " --directory=" + mnt + " --size=16M --bs=4k --rw=randwrite --ioengine=psync"
                        + " --direct=" + direct + " --verify=crc32c --do_verify=1 --verify_fatal=1 --verify_state_save=0 --numjobs=2"
                        + " --group_reporting --output-format=terse").ok();
                sh("fio --name=s" + direct + " --directory=" + mnt + " --size=16M --bs=128k --rw=write --ioengine=psync"
                        + " --direct=" + direct + " --verify=crc32c --do_verify=1 --verify_fatal=1 --verify_state_save=0 --output-format=terse").ok();
            }
            String json = Pmemfs.pmemfs("stats", "--json", mnt.toString()).ok().out();
            Matcher d = DIRECT_USER.matcher(json);
            assertTrue(d.find(), json);
            long directBytes = Long.parseLong(d.group(1));
            if (dax.equals("always")) {
                assertTrue(directBytes >= 64L << 20, "direct path saw only " + directBytes + " bytes: " + json);
            } else {
                assertTrue(directBytes == 0, "dax=never used the direct path: " + json);
            }
        } finally {
            sh("rm -rf '" + work + "'");
        }
        assertFalse(Pmemfs.mounted(mnt));
    }
}
