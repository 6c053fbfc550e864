package dev.pmemfs.fs.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.pmemfs.fs.layout.Geometry;
import java.util.List;
import org.junit.jupiter.api.Test;

final class AreaWearTest {
    private final Geometry geo = Geometry.of(64L << 20, 16384, 64);

    @Test
    void owner_namesEveryArea() {
        assertEquals("superblock", AreaWear.owner(geo, 0));
        assertEquals("journal", AreaWear.owner(geo, geo.journalStart()));
        assertEquals("journal", AreaWear.owner(geo, geo.journalStart() + geo.journalBlocks() - 1));
        assertEquals("inode bitmap", AreaWear.owner(geo, geo.inodeBitmapStart()));
        assertEquals("block bitmap", AreaWear.owner(geo, geo.blockBitmapStart()));
        assertEquals("inode table", AreaWear.owner(geo, geo.inodeTableStart()));
        assertEquals("data", AreaWear.owner(geo, geo.firstDataBlock()));
        assertEquals("superblock", AreaWear.owner(geo, geo.backupSuperblock()));
        assertEquals("wear counters", AreaWear.owner(geo, geo.blocks()));
    }

    @Test
    void of_givesMaxMeanAndRatioPerArea() {
        long[] w = new long[(int) geo.blocks()];
        for (long b = geo.journalStart(); b < geo.journalStart() + geo.journalBlocks(); b++) {
            w[(int) b] = 10;
        }
        w[(int) geo.journalStart() + 3] = 40;
        w[(int) geo.firstDataBlock() + 7] = 5;
        List<AreaWear.Area> areas = AreaWear.of(geo, w);
        AreaWear.Area journal = areas.stream().filter(a -> a.name().equals("journal")).findFirst().orElseThrow();
        assertEquals(geo.journalBlocks(), journal.blocks());
        assertEquals(geo.journalStart() + 3, journal.hottest());
        assertEquals(40, journal.max());
        assertEquals((10.0 * (geo.journalBlocks() - 1) + 40) / geo.journalBlocks(), journal.mean(), 1e-9);
        assertEquals(40 / journal.mean(), journal.maxOverMean(), 1e-9);
        AreaWear.Area data = areas.get(areas.size() - 1);
        assertEquals("data", data.name());
        assertEquals(5, data.max());
        StringBuilder json = new StringBuilder("{\"x\": 1");
        AreaWear.json(json, geo, w, geo.journalStart() + 3);
        String j = json.append('}').toString();
        assertTrue(j.contains("\"hottest_block\": {\"block\": " + (geo.journalStart() + 3) + ", \"writes\": 40, \"area\": \"journal\"}"), j);
        assertTrue(j.contains("{\"area\": \"journal\", \"blocks\": 64, \"hottest_block\": " + (geo.journalStart() + 3) + ", \"max\": 40"), j);
        StringBuilder text = new StringBuilder();
        AreaWear.text(text, geo, w, geo.journalStart() + 3);
        assertTrue(text.toString().contains("hottest block     " + (geo.journalStart() + 3) + " (journal), 40 writes"), text.toString());
    }
}
