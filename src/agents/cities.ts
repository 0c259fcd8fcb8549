// Fixed city data shared by the weather, maps and sensor agents. Deterministic on purpose.

export interface City {
  id: string;
  name: string;
  lat: number;
  lon: number;
  celsius: number;
  conditions: string;
}

export const CITIES: readonly City[] = [
  { id: 'paris', name: 'Paris', lat: 48.8566, lon: 2.3522, celsius: 18, conditions: 'cloudy' },
  { id: 'berlin', name: 'Berlin', lat: 52.52, lon: 13.405, celsius: 14, conditions: 'rain' },
  { id: 'london', name: 'London', lat: 51.5074, lon: -0.1278, celsius: 15, conditions: 'drizzle' },
  { id: 'madrid', name: 'Madrid', lat: 40.4168, lon: -3.7038, celsius: 27, conditions: 'sunny' },
  { id: 'rome', name: 'Rome', lat: 41.9028, lon: 12.4964, celsius: 25, conditions: 'sunny' },
  { id: 'new-york', name: 'New York', lat: 40.7128, lon: -74.006, celsius: 21, conditions: 'partly cloudy' },
  { id: 'sao-paulo', name: 'São Paulo', lat: -23.5505, lon: -46.6333, celsius: 26, conditions: 'showers' },
  { id: 'tokyo', name: 'Tokyo', lat: 35.6762, lon: 139.6503, celsius: 24, conditions: 'humid' },
  { id: 'sydney', name: 'Sydney', lat: -33.8688, lon: 151.2093, celsius: 22, conditions: 'clear' },
  { id: 'cairo', name: 'Cairo', lat: 30.0444, lon: 31.2357, celsius: 33, conditions: 'hot and dry' },
];

const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();

export function findCity(key: string): City | undefined {
  const k = fold(key.trim()).replace(/[\s_]+/g, '-');
  return CITIES.find((c) => c.id === k);
}

// "new-york", "new york", "New  York" and "nyc" all name New York; "são paulo" and "sao-paulo" São Paulo.
const PATTERNS: Array<{ city: City; re: RegExp }> = CITIES.map((city) => {
  const alts = [city.id.split('-').join('[\\s-]+')];
  if (city.id === 'new-york') alts.push('nyc');
  return { city, re: new RegExp(`(?<![\\p{L}\\p{N}])(?:${alts.join('|')})(?![\\p{L}\\p{N}])`, 'gu') };
});

/** Distinct cities named in `text` (case- and accent-insensitive), in order of first mention. */
export function citiesIn(text: string): City[] {
  const t = fold(text);
  const hits: Array<{ city: City; at: number }> = [];
  for (const { city, re } of PATTERNS) {
    re.lastIndex = 0;
    const m = re.exec(t);
    if (m) hits.push({ city, at: m.index });
  }
  return hits.sort((a, b) => a.at - b.at).map((h) => h.city);
}

/** Great-circle distance in km (haversine, mean Earth radius 6371 km). */
export function distanceKm(a: City, b: City): number {
  const rad = (d: number) => (d * Math.PI) / 180;
  const dLat = rad(b.lat - a.lat);
  const dLon = rad(b.lon - a.lon);
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(rad(a.lat)) * Math.cos(rad(b.lat)) * Math.sin(dLon / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.min(1, Math.sqrt(h)));
}
