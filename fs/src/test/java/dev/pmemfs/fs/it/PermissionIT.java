package dev.pmemfs.fs.it;

import static dev.pmemfs.fs.it.Pmemfs.sh;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** default_permissions: the kernel checks modes between root and nobody (allow_other lets nobody in). */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
final class PermissionIT {
    private static final String NOBODY = "setpriv --reuid=nobody --regid=nogroup --clear-groups ";

    @Test
    void modes_holdBetweenRootAndNobody() throws IOException {
        Path work = Files.createTempDirectory("pmemfs-perm-it");
        sh("chmod 755 '" + work + "'").ok();
        Path mnt = Files.createDirectory(work.resolve("mnt"));
        try (Pmemfs.Mount m = Pmemfs.Mount.start(Pmemfs.newRegion("64M"), mnt, true, "-o", "allow_other")) {
            assertTrue(m.pid > 0, "daemon pid");
            sh("set -e; cd '" + mnt + "'; echo secret > private; chmod 600 private; echo hello > public; chmod 644 public;"
                    + " mkdir shared; chmod 1777 shared").ok();
            Pmemfs.Result denied = sh(NOBODY + "cat '" + mnt + "/private'");
            assertNotEquals(0, denied.code());
            assertTrue(denied.err().contains("Permission denied"), denied.err());
            assertEquals("hello\n", sh(NOBODY + "cat '" + mnt + "/public'").ok().out());
            assertNotEquals(0, sh(NOBODY + "sh -c 'echo x > " + mnt + "/public'").code(), "nobody wrote root's 0644 file");
            assertNotEquals(0, sh(NOBODY + "touch '" + mnt + "/new'").code(), "nobody created a file in root's 0755 dir");
            sh(NOBODY + "sh -c 'echo mine > " + mnt + "/shared/n; mkdir " + mnt + "/shared/nd'").ok();
            assertEquals("65534 65534\n", sh("stat -c '%u %g' '" + mnt + "/shared/n'").ok().out(), "owner from the caller");
            assertEquals("65534\n", sh("stat -c '%u' '" + mnt + "/shared/nd'").ok().out());
            sh("echo root > '" + mnt + "/shared/r'").ok();
            assertNotEquals(0, sh(NOBODY + "rm -f '" + mnt + "/shared/r'").code(), "sticky bit ignored");
        } finally {
            sh("rm -rf '" + work + "'");
        }
        assertFalse(Pmemfs.mounted(mnt));
    }
}
