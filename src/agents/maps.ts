// maps: great-circle distances between the cities named in the text (fixed coordinates).
import { CITIES, citiesIn, distanceKm } from './cities';
import { start } from './runtime';

start({
  name: 'maps',
  description: 'Great-circle distances between well-known cities (haversine, fixed coordinates)',
  skills: [
    {
      id: 'distance',
      name: 'Distance',
      description: 'Distance in km between consecutive cities named in the message',
      tags: ['maps', 'distance'],
      examples: ['How far is it from Paris to Berlin?'],
    },
  ],
  handle({ text }) {
    const found = citiesIn(text);
    if (found.length < 2) {
      const named = found.map((c) => c.id).join(', ') || 'none';
      return {
        summary: `need two known cities for a distance (found: ${named}; known: ${CITIES.map((c) => c.id).join(', ')})`,
        result: { cities: found.map((c) => c.id), legs: [] },
      };
    }
    const legs = found.slice(1).map((to, i) => ({ from: found[i]!.id, to: to.id, km: Math.round(distanceKm(found[i]!, to)) }));
    return { summary: legs.map((l) => `${l.from} -> ${l.to} ${l.km} km`).join('; '), result: { cities: found.map((c) => c.id), legs } };
  },
});
